package turnserver

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory routes pion's TURN logs to slog. Most of what pion reports
// as errors is caused by clients (bad packets, refused credentials), so
// errors and warnings become Info, and the rest Debug.
type slogFactory struct{ log *slog.Logger }

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("scope", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l slogLogger) Trace(msg string)                  { l.logf(slog.LevelDebug-4, "%s", msg) }
func (l slogLogger) Tracef(format string, args ...any) { l.logf(slog.LevelDebug-4, format, args...) }
func (l slogLogger) Debug(msg string)                  { l.logf(slog.LevelDebug, "%s", msg) }
func (l slogLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }
func (l slogLogger) Info(msg string)                   { l.logf(slog.LevelDebug, "%s", msg) }
func (l slogLogger) Infof(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }
func (l slogLogger) Warn(msg string)                   { l.logf(slog.LevelInfo, "%s", msg) }
func (l slogLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelInfo, format, args...) }
func (l slogLogger) Error(msg string)                  { l.logf(slog.LevelInfo, "%s", msg) }
func (l slogLogger) Errorf(format string, args ...any) { l.logf(slog.LevelInfo, format, args...) }
