package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/hearthtest"
	"github.com/hearth-rtc/hearth/room"
)

// TestRoomCommand drives the admin API through "hearth room".
func TestRoomCommand(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.Options{APIKey: "ops", APISecret: "ops-secret-0123456789"})
	ctx := context.Background()
	auth := []string{"-server", srv.URL, "-api-key", "ops", "-api-secret", "ops-secret-0123456789"}
	call := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"room"}, args...), auth...), &out, &errOut)
		return out.String() + errOut.String(), err
	}

	if out, err := call("create", "tuesday-anxiety", "-kind", "closed", "-capacity", "10", "-passcode", "calm-water",
		"-roster", "dr-lee:facilitator:Dr Lee,client-04:member:Rae"); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	cfg, err := srv.App.Store().GetRoom(ctx, "tuesday-anxiety")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != room.KindClosed || cfg.Capacity != 10 || len(cfg.Roster) != 2 || !cfg.CheckPasscode("calm-water") {
		t.Errorf("stored config %+v", cfg)
	}
	if e, ok := cfg.RosterEntry("dr-lee"); !ok || e.Role != room.RoleFacilitator || e.Name != "Dr Lee" {
		t.Errorf("roster entry %+v", e)
	}

	if out, err := call("update", "tuesday-anxiety", "-capacity", "12", "-knock=true"); err != nil {
		t.Fatalf("update: %v\n%s", err, out)
	}
	out, err := call("get", "tuesday-anxiety")
	if err != nil || !strings.Contains(out, `"capacity": 12`) || !strings.Contains(out, `"knock": true`) {
		t.Fatalf("get after update: %v\n%s", err, out)
	}
	if strings.Contains(out, "calm-water") || strings.Contains(out, "passcodeHash") {
		t.Error("the passcode leaks through the API")
	}
	if out, err := call("list"); err != nil || !strings.Contains(out, "tuesday-anxiety") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := call("delete", "tuesday-anxiety"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if _, err := call("get", "tuesday-anxiety"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("get after delete: %v, want not_found", err)
	}

	// Wrong credentials are refused.
	var o, e bytes.Buffer
	err = run(ctx, []string{"room", "list", "-server", srv.URL, "-api-key", "ops", "-api-secret", "guess"}, &o, &e)
	if err == nil {
		t.Error("wrong API secret accepted")
	}
}
