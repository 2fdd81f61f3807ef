package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs into the engine's slog logger. Pion's own
// factory builds a logger (with its own writers) per scope per peer
// connection, about 10 KiB a participant; this one shares one per scope.
// Pion's errors are mostly about connections going away, so they are
// warnings here; its warnings and below are debug.
type pionLogs struct {
	log *slog.Logger

	mu     sync.Mutex
	scopes map[string]*pionLogger
}

func newPionLogs(log *slog.Logger) *pionLogs {
	return &pionLogs{log: log, scopes: map[string]*pionLogger{}}
}

// NewLogger implements logging.LoggerFactory.
func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.scopes[scope]
	if l == nil {
		l = &pionLogger{log: f.log.With("pion", scope)}
		f.scopes[scope] = l
	}
	return l
}

type pionLogger struct{ log *slog.Logger }

func (l *pionLogger) emit(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
}

// emitf formats only when the level is on: pion logs some messages per
// packet at trace level.
func (l *pionLogger) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

const levelTrace = slog.LevelDebug - 4

func (l *pionLogger) Trace(msg string)                  { l.emit(levelTrace, msg) }
func (l *pionLogger) Tracef(format string, args ...any) { l.emitf(levelTrace, format, args...) }
func (l *pionLogger) Debug(msg string)                  { l.emit(levelTrace, msg) }
func (l *pionLogger) Debugf(format string, args ...any) { l.emitf(levelTrace, format, args...) }
func (l *pionLogger) Info(msg string)                   { l.emit(levelTrace, msg) }
func (l *pionLogger) Infof(format string, args ...any)  { l.emitf(levelTrace, format, args...) }
func (l *pionLogger) Warn(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l *pionLogger) Warnf(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args...) }
func (l *pionLogger) Error(msg string)                  { l.emit(slog.LevelWarn, msg) }
func (l *pionLogger) Errorf(format string, args ...any) { l.emitf(slog.LevelWarn, format, args...) }
