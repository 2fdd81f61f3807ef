package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

// roomView is a room as the API shows it: the passcode hash never leaves
// the server, only whether there is a passcode. DisplayName is the name
// people see: the one set, or one made from the name.
type roomView struct {
	Name             string             `json:"name"`
	DisplayName      string             `json:"displayName"`
	Kind             room.Kind          `json:"kind"`
	Capacity         int                `json:"capacity"`
	HasPasscode      bool               `json:"hasPasscode"`
	Knock            bool               `json:"knock"`
	LockBehavior     room.LockBehavior  `json:"lockBehavior"`
	MembersJoinMuted bool               `json:"membersJoinMuted"`
	ShareEnd         room.ShareEnd      `json:"shareEnd"`
	PeerLed          room.PeerLed       `json:"peerLed"` // who runs turn-taking without a facilitator
	Roster           []room.RosterEntry `json:"roster"`
	Schedule         *room.Schedule     `json:"schedule"`
	// NextSession is the session under way or next, while there is one.
	NextSession *room.SeriesSession `json:"nextSession,omitempty"`
	// RosterClosed: a closed cohort after its first session; adding to the
	// roster then needs "overrideBy".
	RosterClosed     bool                  `json:"rosterClosed"`
	RosterOverrides  []room.RosterOverride `json:"rosterOverrides"`
	Agreement        *room.Agreement       `json:"agreement"`
	AgreementVersion string                `json:"agreementVersion,omitempty"`
	CreatedAt        time.Time             `json:"createdAt"`
	UpdatedAt        time.Time             `json:"updatedAt"`
}

func view(c room.RoomConfig, now time.Time) roomView {
	v := roomView{Name: c.Name, Kind: c.Kind, Capacity: c.Capacity, HasPasscode: c.HasPasscode(), Knock: c.Knock,
		LockBehavior: c.LockBehavior, MembersJoinMuted: c.MembersJoinMuted, PeerLed: c.PeerLed, Roster: c.Roster,
		DisplayName: c.Title(), ShareEnd: c.ShareEnd.OrStop(),
		Schedule: c.Schedule, RosterClosed: c.RosterClosed(now), RosterOverrides: c.RosterOverrides,
		Agreement: c.Agreement, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if v.Roster == nil {
		v.Roster = []room.RosterEntry{}
	}
	if v.PeerLed == "" {
		v.PeerLed = room.PeerLedNobody
	}
	if v.RosterOverrides == nil {
		v.RosterOverrides = []room.RosterOverride{}
	}
	if c.Schedule != nil {
		if x, err := c.Schedule.Series(); err == nil {
			if s, ok := x.Next(now); ok {
				v.NextSession = &s
			}
		}
	}
	if c.Agreement != nil {
		v.AgreementVersion = c.Agreement.Version()
	}
	return v
}

// roomInput is a create or PATCH body. Absent fields are left alone on
// PATCH and take defaults on create; "passcode": "" removes the passcode,
// "displayName": "" restores the one made from the name,
// "schedule": null and "agreement": null remove those. "overrideBy" names
// who decides to add people to a closed cohort's closed roster.
type roomInput struct {
	Name             *string             `json:"name"`
	Kind             *room.Kind          `json:"kind"`
	Capacity         *int                `json:"capacity"`
	Passcode         *string             `json:"passcode"`
	Knock            *bool               `json:"knock"`
	LockBehavior     *room.LockBehavior  `json:"lockBehavior"`
	MembersJoinMuted *bool               `json:"membersJoinMuted"`
	DisplayName      *string             `json:"displayName"`
	ShareEnd         *room.ShareEnd      `json:"shareEnd"`
	PeerLed          *room.PeerLed       `json:"peerLed"`
	Roster           *[]room.RosterEntry `json:"roster"`
	Schedule         json.RawMessage     `json:"schedule"`
	Agreement        json.RawMessage     `json:"agreement"`
	OverrideBy       string              `json:"overrideBy"`
}

// apply copies the given fields into c (hashing the passcode).
func (in roomInput) apply(c *room.RoomConfig) error {
	if in.Schedule != nil {
		c.Schedule = nil
		if string(in.Schedule) != "null" {
			c.Schedule = &room.Schedule{}
			if err := strict(in.Schedule, c.Schedule); err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "schedule: %v", err)
			}
		}
	}
	if in.Agreement != nil {
		c.Agreement = nil
		if string(in.Agreement) != "null" {
			c.Agreement = &room.Agreement{}
			if err := strict(in.Agreement, c.Agreement); err != nil {
				return errorf(http.StatusBadRequest, "bad_request", "agreement: %v", err)
			}
		}
	}
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
	if in.DisplayName != nil {
		dn, err := room.CleanDisplayName(*in.DisplayName)
		if err != nil {
			return err
		}
		c.DisplayName = dn
	}
	if in.ShareEnd != nil {
		c.ShareEnd = *in.ShareEnd
		if !c.ShareEnd.Valid() {
			return errorf(http.StatusBadRequest, "bad_request", `shareEnd must be "stop" or "finish"`)
		}
	}
	if in.PeerLed != nil {
		c.PeerLed = *in.PeerLed
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

func (h *Handler) listRooms(ctx context.Context) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	list, err := h.store.ListRooms(ctx)
	if err != nil {
		return 0, nil, err
	}
	out := make([]roomView, 0, len(list))
	for _, c := range list {
		out = append(out, view(c, h.now()))
	}
	return http.StatusOK, map[string]any{"rooms": out}, nil
}

func (h *Handler) createRoom(ctx context.Context, w http.ResponseWriter, r *http.Request) (int, any, error) {
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
	// The store's time starts after the passcode's hashing, which takes
	// long on a busy machine.
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	created, err := h.store.CreateRoom(ctx, cfg)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", h.prefix+"/rooms/"+created.Name)
	return http.StatusCreated, view(created, h.now()), nil
}

func (h *Handler) getRoom(ctx context.Context, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	c, err := h.store.GetRoom(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(c, h.now()), nil
}

func (h *Handler) patchRoom(ctx context.Context, w http.ResponseWriter, r *http.Request, name string) (int, any, error) {
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
	now := h.now()
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	updated, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		old := c.Clone()
		if err := in.apply(c); err != nil {
			return err
		}
		if hash != nil {
			c.PasscodeHash = *hash
		}
		return c.GuardRoster(old, now, in.OverrideBy)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(updated, now), nil
}

func (h *Handler) deleteRoom(ctx context.Context, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	if err := h.store.DeleteRoom(ctx, name); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (h *Handler) getRoster(ctx context.Context, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	c, err := h.store.GetRoom(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"roster": view(c, h.now()).Roster}, nil
}

func (h *Handler) putRoster(ctx context.Context, w http.ResponseWriter, r *http.Request, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	var in struct {
		Roster     *[]room.RosterEntry `json:"roster"`
		OverrideBy string              `json:"overrideBy"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Roster == nil {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", `"roster" is required`)
	}
	now := h.now()
	updated, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		old := c.Clone()
		c.Roster = append([]room.RosterEntry{}, *in.Roster...)
		return c.GuardRoster(old, now, in.OverrideBy)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"roster": view(updated, now).Roster}, nil
}

func (h *Handler) putRosterEntry(ctx context.Context, w http.ResponseWriter, r *http.Request, name, identity string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	var in struct {
		Identity   *string   `json:"identity"`
		Name       string    `json:"name"`
		Role       room.Role `json:"role"`
		OverrideBy string    `json:"overrideBy"`
	}
	if err := h.decode(w, r, &in); err != nil {
		return 0, nil, err
	}
	if in.Identity != nil && *in.Identity != identity {
		return 0, nil, errorf(http.StatusBadRequest, "bad_request", "identity in the body differs from the path")
	}
	entry := room.RosterEntry{Identity: identity, Name: in.Name, Role: in.Role}
	created := false
	now := h.now()
	_, err := h.store.UpdateRoom(ctx, name, func(c *room.RoomConfig) error {
		created = true
		for i := range c.Roster {
			if c.Roster[i].Identity == identity {
				c.Roster[i], created = entry, false
				return nil
			}
		}
		old := c.Clone()
		c.Roster = append(c.Roster, entry)
		return c.GuardRoster(old, now, in.OverrideBy)
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

func (h *Handler) deleteRosterEntry(ctx context.Context, name, identity string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
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

func (h *Handler) getSession(ctx context.Context, name string) (int, any, error) {
	ctx, cancel := h.bounded(ctx)
	defer cancel()
	s, err := h.store.Session(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s, nil
}

// strict decodes one JSON object into v, refusing unknown fields.
func strict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}
