package signaling

import "github.com/hearth-rtc/hearth/protocol"

// iceServersFor lists the ICE servers handed to one participant in joined:
// the static ones, then those of Config.ICEServersFor (credentials minted
// for that participant, such as the embedded TURN server's).
func (s *Server) iceServersFor(participantID string) []protocol.ICEServer {
	out := s.iceServers()
	if s.cfg.ICEServersFor == nil {
		return out
	}
	for _, is := range s.cfg.ICEServersFor(participantID) {
		out = append(out, protocol.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	return out
}
