package live

import (
	"log/slog"
	"time"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
	"github.com/hearth-rtc/hearth/span"
)

// Config configures NewRooms.
type Config struct {
	Door   Door        // required
	Engine *sfu.Engine // required: each room's router
	Logger *slog.Logger
	// ReconnectGrace is how long a seated participant's seat is held after
	// its connection drops; 20 s if zero, none if negative.
	ReconnectGrace time.Duration
	// ICEServers are handed to every participant in joined; ICEServersFor,
	// if set, adds some for one participant (by id), e.g. short-lived TURN
	// credentials.
	ICEServers    []protocol.ICEServer
	ICEServersFor func(participantID string) []protocol.ICEServer
	// Span, if set, lets a room's media outgrow this node: once SpanAfter
	// participants' media is served here, a participant who came in
	// through another node of the cluster has theirs served there, by a
	// router linked to this one (package span). Controls stay here.
	Span      *span.Owner
	SpanAfter int
}

// DefaultReconnectGrace is Config.ReconnectGrace's default.
const DefaultReconnectGrace = 20 * time.Second

// iceServersFor lists the ICE servers for one participant: the static
// ones, then those made for it.
func (c *Config) iceServersFor(id string) []protocol.ICEServer {
	out := append([]protocol.ICEServer{}, c.ICEServers...)
	if c.ICEServersFor != nil {
		out = append(out, c.ICEServersFor(id)...)
	}
	return out
}
