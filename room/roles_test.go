package room_test

import (
	"errors"
	"testing"

	"github.com/hearth-rtc/hearth/room"
)

func TestRolePermissions(t *testing.T) {
	type perms map[room.Permission]bool
	want := map[room.Role]perms{
		room.RoleFacilitator: {room.PermPublishAudio: true, room.PermPublishVideo: true, room.PermReceive: true,
			room.PermModerate: true, room.PermAdmit: true},
		room.RoleCoFacilitator: {room.PermPublishAudio: true, room.PermPublishVideo: true, room.PermReceive: true,
			room.PermModerate: true, room.PermAdmit: true},
		room.RoleMember: {room.PermPublishAudio: true, room.PermPublishVideo: true, room.PermReceive: true,
			room.PermModerate: false, room.PermAdmit: false},
		room.RoleObserver: {room.PermPublishAudio: false, room.PermPublishVideo: false, room.PermReceive: true,
			room.PermModerate: false, room.PermAdmit: false},
		"":     {},
		"root": {},
	}
	for role, ps := range want {
		for _, p := range room.Permissions() {
			if got := role.Can(p); got != ps[p] {
				t.Errorf("%q.Can(%s) = %v, want %v", role, p, got, ps[p])
			}
		}
	}
	if room.RoleFacilitator.Can("fly") {
		t.Error("unknown permission granted")
	}
	if len(room.Roles()) != 4 || len(room.Permissions()) != 5 {
		t.Error("role or permission lists incomplete")
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range room.Roles() {
		got, err := room.ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, bad := range []string{"", "Facilitator", "cofacilitator", "admin"} {
		if _, err := room.ParseRole(bad); !errors.Is(err, room.ErrInvalid) {
			t.Errorf("ParseRole(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestRoleAtMost(t *testing.T) {
	cases := []struct{ r, limit, want room.Role }{
		{room.RoleFacilitator, room.RoleMember, room.RoleMember},
		{room.RoleCoFacilitator, room.RoleFacilitator, room.RoleCoFacilitator},
		{room.RoleMember, room.RoleObserver, room.RoleObserver},
		{room.RoleObserver, room.RoleFacilitator, room.RoleObserver},
		{room.RoleFacilitator, room.RoleCoFacilitator, room.RoleCoFacilitator},
	}
	for _, c := range cases {
		if got := c.r.AtMost(c.limit); got != c.want {
			t.Errorf("%s.AtMost(%s) = %s, want %s", c.r, c.limit, got, c.want)
		}
	}
	if !room.RoleCoFacilitator.IsFacilitator() || room.RoleMember.IsFacilitator() {
		t.Error("IsFacilitator wrong")
	}
}
