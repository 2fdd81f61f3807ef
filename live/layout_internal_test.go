package live

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/room"
	"github.com/hearth-rtc/hearth/sfu"
)

// TestLayoutLayers: each tile size, given by class or by width, becomes
// the most of that camera forwarded: hidden none, small the lowest layer,
// medium the middle one, large the highest; tiles of oneself and of
// people not seated are left out.
func TestLayoutLayers(t *testing.T) {
	seated := func(id string) bool { return id != "gone" }
	tiles := []protocol.Tile{
		{Participant: "a", Size: protocol.TileHidden},
		{Participant: "b", Size: protocol.TileSmall},
		{Participant: "c", Size: protocol.TileMedium},
		{Participant: "d", Size: protocol.TileLarge, Pinned: true},
		{Participant: "e", Width: 320, Height: 180},
		{Participant: "f", Width: 640, Height: 360},
		{Participant: "g", Width: 1280, Height: 720},
		{Participant: "h", Width: 0, Height: 0},
		{Participant: "self", Size: protocol.TileLarge},
		{Participant: "gone", Size: protocol.TileLarge},
	}
	lay, err := readLayout(tiles, "self", seated, 9)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": sfu.LayerPaused, "b": 0, "c": 1, "d": 2, "e": 0, "f": 1, "g": 2, "h": sfu.LayerPaused}
	if len(lay) != len(want) {
		t.Errorf("layout holds %d tiles, want %d (oneself and people gone left out): %v", len(lay), len(want), lay)
	}
	for id, l := range want {
		v, ok := lay[id]
		if !ok {
			t.Errorf("%s: not in the layout", id)
			continue
		}
		if got := layerOf(v.size); got != l {
			t.Errorf("%s (%s): layer %d, want %d", id, v.size, got, l)
		}
	}
	if !lay["d"].pinned || lay["c"].pinned {
		t.Error("pinned not kept")
	}
}

// TestLayoutRefused: a layout naming someone twice, more tiles than people
// here, a size that is not one, a tile without a participant or with
// impossible dimensions is refused with bad_request and a sentence that
// names no Go type and quotes nothing sent.
func TestLayoutRefused(t *testing.T) {
	seated := func(string) bool { return true }
	many := make([]protocol.Tile, 10)
	for i := range many {
		many[i] = protocol.Tile{Participant: string(rune('a' + i)), Size: protocol.TileSmall}
	}
	for name, tiles := range map[string][]protocol.Tile{
		"twice":      {{Participant: "a", Size: protocol.TileSmall}, {Participant: "a", Size: protocol.TileLarge}},
		"too many":   many,
		"bad size":   {{Participant: "a", Size: protocol.TileSize("enormous-size-" + strings.Repeat("x", 100))}},
		"nobody":     {{Size: protocol.TileSmall}},
		"negative":   {{Participant: "a", Width: -1, Height: 10}},
		"very large": {{Participant: "a", Width: 100000, Height: 10}},
	} {
		_, err := readLayout(tiles, "self", seated, 3)
		var re *room.RefusedError
		if !errors.As(err, &re) || re.Code != room.CodeBadRequest {
			t.Errorf("%s: %v, want a bad_request refusal", name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "protocol.") || strings.Contains(msg, "xxxx") {
			t.Errorf("%s: message %q names a Go type or quotes the input", name, msg)
		}
	}
}

// TestLayoutImportance: the people a subscriber must keep seeing come
// first whatever its layout (the floor holder, the active speaker, the
// aside partner, the facilitators), then pinned tiles, then larger tiles;
// hidden tiles last.
func TestLayoutImportance(t *testing.T) {
	c := NewControls(ControlsConfig{})
	for _, p := range []struct {
		id   string
		role room.Role
	}{{"fac", room.RoleFacilitator}, {"m1", room.RoleMember}, {"m2", room.RoleMember}, {"m3", room.RoleMember},
		{"m4", room.RoleMember}, {"m5", room.RoleMember}} {
		c.Seat(room.Participant{ID: p.id, Identity: p.id, Name: p.id, Role: p.role})
	}
	others := []string{"fac", "m2", "m3", "m4", "m5"}
	lay := layout{
		"fac": {size: protocol.TileHidden},
		"m2":  {size: protocol.TileSmall},
		"m3":  {size: protocol.TileSmall, pinned: true},
		"m4":  {size: protocol.TileLarge},
		"m5":  {size: protocol.TileHidden},
	}
	got := importance(others, c.keepInView("m1", ""), lay)
	if want := []string{"fac", "m3", "m4", "m2", "m5"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	// m5 speaks: first, though hidden.
	got = importance(others, c.keepInView("m1", "m5"), lay)
	if want := []string{"m5", "fac", "m3", "m4", "m2"}; !slices.Equal(got, want) {
		t.Errorf("with m5 speaking: order %v, want %v", got, want)
	}
	// m2 holds the floor, m5 speaks.
	if _, err := c.Apply(Command{Kind: protocol.CmdGiveFloor, By: "fac", Participant: "m2"}); err != nil {
		t.Fatal(err)
	}
	got = importance(others, c.keepInView("m1", "m5"), lay)
	if want := []string{"m2", "m5", "fac", "m3", "m4"}; !slices.Equal(got, want) {
		t.Errorf("with m2 holding the floor: order %v, want %v", got, want)
	}
	// The facilitator, in an aside with m2, keeps m2 first even when
	// nobody speaks and its layout hides m2.
	if _, err := c.Apply(Command{Kind: protocol.CmdTakeFloor, By: "fac"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(Command{Kind: protocol.CmdStartAside, By: "fac", Participant: "m2"}); err != nil {
		t.Fatal(err)
	}
	facLay := layout{"m2": {size: protocol.TileHidden}, "m1": {size: protocol.TileLarge}}
	got = importance([]string{"m1", "m2", "m3", "m4", "m5"}, c.keepInView("fac", ""), facLay)
	if got[0] != "m2" {
		t.Errorf("the facilitator's order %v: the aside partner is not first", got)
	}
}

// TestVideoLayersMessage: a simulcast track's wanted layers become a
// video_layers message by rid; a track without simulcast gets none.
func TestVideoLayersMessage(t *testing.T) {
	tl := sfu.TrackLayers{Track: sfu.TrackInfo{ID: "p-video", Publisher: "p", Kind: sfu.KindVideo},
		RIDs: []string{"q", "h", "f"}, Wanted: []bool{true, false, true}}
	msg, ok := videoLayers(tl)
	want := []protocol.VideoLayer{{RID: "q", Active: true}, {RID: "h"}, {RID: "f", Active: true}}
	if !ok || msg.Type != "video_layers" || msg.Track != "p-video" || !slices.Equal(msg.Layers, want) {
		t.Errorf("got %+v %v", msg, ok)
	}
	if _, ok := videoLayers(sfu.TrackLayers{Track: tl.Track, RIDs: []string{""}, Wanted: []bool{true}}); ok {
		t.Error("a track without simulcast was told of layers")
	}
}
