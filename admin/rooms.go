package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// roomView is a room as the API shows it: the passcode hash never leaves
// the server, only whether there is a passcode.
type roomView struct {
	Name             string             `json:"name"`
	Kind             room.Kind          `json:"kind"`
	Capacity         int                `json:"capacity"`
	HasPasscode      bool               `json:"hasPasscode"`
	Knock            bool               `json:"knock"`
	LockBehavior     room.LockBehavior  `json:"lockBehavior"`
	MembersJoinMuted bool               `json:"membersJoinMuted"`
	Roster           []room.RosterEntry `json:"roster"`
	CreatedAt        time.Time          `json:"createdAt"`
	UpdatedAt        time.Time          `json:"updatedAt"`
}

func view(c room.RoomConfig) roomView {
	roster := c.Roster
	if roster == nil {
		roster = []room.RosterEntry{}
	}
	return roomView{Name: c.Name, Kind: c.Kind, Capacity: c.Capacity, HasPasscode: c.HasPasscode(), Knock: c.Knock,
		LockBehavior: c.LockBehavior, MembersJoinMuted: c.MembersJoinMuted, Roster: roster,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// roomInput is a create or PATCH body. Absent fields are left alone on
// PATCH and take defaults on create; "passcode": "" removes the passcode.
type roomInput struct {
	Name             *string             `json:"name"`
	Kind             *room.Kind          `json:"kind"`
	Capacity         *int                `json:"capacity"`
	Passcode         *string             `json:"passcode"`
	Knock            *bool               `json:"knock"`
	LockBehavior     *room.LockBehavior  `json:"lockBehavior"`
	MembersJoinMuted *bool               `json:"membersJoinMuted"`
	Roster           *[]room.RosterEntry `json:"roster"`
}

// apply copies the given fields into c (hashing the passcode).
func (in roomInput) apply(c *room.RoomConfig) error {
	if in.Kind != nil {
		c.Kind = *in.Kind
	}
	if in.Capacity != nil {
		c.Capacity = *in.Capacity
		if c.Capacity == 0 {
			// 0 would silently become the default; say so instead.
			return errorf(http.StatusBadRequest, "bad_request", "capacity must be 1-%d", room.MaxCapacity)
		}
	}
	if in.Knock != nil {
		c.Knock = *in.Knock
	}
	if in.LockBehavior != nil {
		c.LockBehavior = *in.LockBehavior
	}
	if in.MembersJoinMuted != nil {
		c.MembersJoinMuted = *in.MembersJoinMuted
	}
	if in.Roster != nil {
		c.Roster = append([]room.RosterEntry{}, *in.Roster...)
	}
	if in.Passcode != nil {
		if err := c.SetPasscode(*in.Passcode); err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) listRooms(ctx context.Context) (int, any, error) {
	list, err := h.store.ListRooms(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := make([]roomView, 0, len(list))
	for _, c := range list {
		out = append(out, view(c))
	}
	return http.StatusOK, map[string]any{"rooms": out}, nil
}

func (h *handler) createRoom(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in roomInput
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name == nil || in.Kind == nil {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", `"name" and "kind" are required`)
	}
	if !room.ValidRoomName(*in.Name) {
		// Checked before hashing a passcode for nothing.
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", "room name must be 1-%d characters of A-Z a-z 0-9 . _ -", room.MaxNameLen)
	}
	cfg := room.RoomConfig{Name: *in.Name}
	if err := in.apply(&cfg); err != nil {
		return 0, nil, err
	}
	created, err := h.store.CreateRoom(ctx, cfg)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", h.prefix+"/rooms/"+created.Name)
	return http.StatusCreated, view(created), nil
}

func (h *handler) getRoom(ctx context.Context, name string) (int, any, error) {
	c, err := h.store.GetRoom(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(c), nil
}

func (h *handler) patchRoom(ctx context.Context, w http.ResponseWriter, r *http.Request, name string) (int, any, error) {
	var in roomInput
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil && *in.Name != name {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", "a room cannot be renamed")
	}
	// Hash once, outside UpdateRoom's function, which may run more than once.
	var hash *string
	if in.Passcode != nil {
		var tmp room.RoomConfig
		if err := tmp.SetPasscode(*in.Passcode); err != nil {
			return 0, nil, err
		}
		hash, in.Passcode = &tmp.PasscodeHash, nil
	}
	updated, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		if err := in.apply(c); err != nil {
			return err
		}
		if hash != nil {
			c.PasscodeHash = *hash
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(updated), nil
}

func (h *handler) deleteRoom(ctx context.Context, name string) (int, any, error) {
	if err := h.store.DeleteRoom(ctx, name); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (h *handler) getRoster(ctx context.Context, name string) (int, any, error) {
	c, err := h.store.GetRoom(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"roster": view(c).Roster}, nil
}

func (h *handler) putRoster(ctx context.Context, w http.ResponseWriter, r *http.Request, name string) (int, any, error) {
	var in struct {
		Roster *[]room.RosterEntry `json:"roster"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Roster == nil {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", `"roster" is required`)
	}
	updated, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		c.Roster = append([]room.RosterEntry{}, *in.Roster...)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"roster": view(updated).Roster}, nil
}

func (h *handler) putRosterEntry(ctx context.Context, w http.ResponseWriter, r *http.Request, name, identity string) (int, any, error) {
	var in struct {
		Identity *string   `json:"identity"`
		Name     string    `json:"name"`
		Role     room.Role `json:"role"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Identity != nil && *in.Identity != identity {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", "identity in the body differs from the path")
	}
	entry := room.RosterEntry{Identity: identity, Name: in.Name, Role: in.Role}
	created := false
	_, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		created = true
		for i := range c.Roster {
			if c.Roster[i].Identity == identity {
				c.Roster[i], created = entry, false
				return nil
			}
		}
		c.Roster = append(c.Roster, entry)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if created {
		return http.StatusCreated, entry, nil
	}
	return http.StatusOK, entry, nil
}

var errNotOnRoster = errors.New("identity is not on the roster")

func (h *handler) deleteRosterEntry(ctx context.Context, name, identity string) (int, any, error) {
	_, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		for i := range c.Roster {
			if c.Roster[i].Identity == identity {
				c.Roster = append(c.Roster[:i:i], c.Roster[i+1:]...)
				return nil
			}
		}
		return errNotOnRoster
	})
	if errors.Is(err, errNotOnRoster) {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "%q is not on the roster of %q", identity, name)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (h *handler) getSession(ctx context.Context, name string) (int, any, error) {
	s, err := h.store.Session(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s, nil
}
