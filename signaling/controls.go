package signaling

import "context"

// dispatchControl handles facilitator controls and turn-taking messages.
// handled is false for types it does not know.
func (c *conn) dispatchControl(ctx context.Context, typ string, data []byte) (handled bool, err error) {
	return false, nil
}
