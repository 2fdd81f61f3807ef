package signaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/client"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
)

// TestAgreementDeadline: someone shown the group agreement who neither
// accepts nor declines within the server's AgreementTimeout is let go
// with join_timeout and a sentence saying why and what to do, the socket
// closed; nobody in the room ever saw them.
func TestAgreementDeadline(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{AgreementTimeout: 300 * time.Millisecond})
	agreementRoom(t, srv)
	f := ctlJoin(t, srv, "circle", "fran", room.RoleFacilitator, false)

	a := dial(t, srv, client.Options{Room: "circle", Token: ctlToken(t, "circle", "ann", room.RoleMember), Audio: true})
	if err := a.Join(); err != nil {
		t.Fatal(err)
	}
	waitAgreementMsg(t, a, "agreement")

	ctx, cancel := budget.Context(t, budget.Step)
	defer cancel()
	m, err := a.WaitMessage(ctx, "error", func(m client.Message) bool {
		var v protocol.Error
		return m.Decode(&v) == nil && v.Code == protocol.CodeJoinTimeout
	})
	if err != nil {
		t.Fatalf("no join_timeout after the agreement's deadline: %v (%v)", err, types(a))
	}
	var v protocol.Error
	_ = m.Decode(&v)
	if v.Message != "The group agreement was not answered in time; reconnect to read it again." {
		t.Errorf("join_timeout message %q", v.Message)
	}
	closed, err := a.WaitMessage(ctx, "_closed", nil)
	if err != nil {
		t.Fatalf("not closed after the agreement's deadline: %v", err)
	}
	if !strings.Contains(string(closed.Raw), "1008") {
		t.Errorf("closed with %s, want 1008 (policy violation)", closed.Raw)
	}
	if n := countType(a, "joined") + countType(a, "waiting"); n != 0 {
		t.Errorf("let in before the deadline: %v", types(a))
	}
	ctlSync(t, f)
	if st, _ := ctlState(f); len(st.Participants) != 1 {
		t.Errorf("the facilitator sees %d people", len(st.Participants))
	}
}
