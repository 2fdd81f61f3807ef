package protocol_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hearth-rtc/hearth/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTables: every command is a client message, every server message
// carries its type, and no code is listed twice. That PROTOCOL.md documents
// each of them is checked where the server sends them (signaling).
func TestTables(t *testing.T) {
	client := protocol.ClientMessages()
	for _, k := range protocol.CommandKinds() {
		if _, ok := client[string(k)]; !ok {
			t.Errorf("command %q is not a client message", k)
		}
	}
	for typ, mk := range protocol.ServerMessages() {
		b, err := json.Marshal(mk())
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var env protocol.Envelope
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if _, ok := reflect.TypeOf(mk()).Elem().FieldByName("Type"); !ok {
			t.Errorf("server message %q has no type field", typ)
		}
	}
	seen := map[protocol.Code]bool{}
	for _, c := range protocol.Codes() {
		if seen[c] {
			t.Errorf("code %q listed twice", c)
		}
		seen[c] = true
	}
}
