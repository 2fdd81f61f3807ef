package load

import (
	"fmt"

	"github.com/hearth-rtc/hearth/protocol"
)

// Simulcast in a run.
//
// A simulcast publisher sends its video as three layers (rids q, h and f,
// lowest first) at the bitrates the browser client gives them
// (web/static/layers.js). Each subscriber shows the others' cameras at the
// sizes its layout names, and sends that layout once everyone receives
// everyone, as the browser does: the server then forwards each camera at
// the layer the tile needs, and tells each publisher which layers nobody
// receives, which it stops sending until they are wanted again. The relay
// does the same choice from the same table (layoutLayer), so that both
// forward the same packets.

// simulcastBitrates are the layers' bitrates, lowest first: the browser
// client's maxBitrate for rids q, h and f.
var simulcastBitrates = [3]int{150_000, 400_000, 1_000_000}

// Layouts a run's subscribers can show.
const (
	// LayoutFull sends no layout: every camera at its highest layer, as
	// before any layout.
	LayoutFull = "full"
	// LayoutMixed: subscriber i shows publisher j small, medium or large
	// by (i+j) mod 3, so that every layer of a camera is watched by
	// someone once a room has four people.
	LayoutMixed = "mixed"
	// LayoutSpeaker: everyone shows the room's first member large and
	// the others small, as a speaker view does; the first member shows
	// everyone small. Nobody receives a middle layer.
	LayoutSpeaker = "speaker"
)

// checkLayout tells whether a layout is one the run knows.
func checkLayout(layout string) error {
	switch layout {
	case LayoutFull, LayoutMixed, LayoutSpeaker:
		return nil
	}
	return fmt.Errorf("load: layout %q: want %s, %s or %s", layout, LayoutFull, LayoutMixed, LayoutSpeaker)
}

// layoutLayer is the layer (0 lowest) subscriber sub receives of publisher
// pub's camera under a layout; both are member indexes within a room.
func layoutLayer(layout string, sub, pub int) int {
	switch layout {
	case LayoutMixed:
		return (sub + pub) % 3
	case LayoutSpeaker:
		if pub == 0 {
			return 2
		}
		return 0
	}
	return 2
}

// activeLayers is which layers of publisher pub's camera anybody in a room
// of size receives under a layout.
func activeLayers(layout string, pub, size int) [3]bool {
	var on [3]bool
	for sub := range size {
		if sub != pub {
			on[layoutLayer(layout, sub, pub)] = true
		}
	}
	return on
}

// tileSizes names the tile size that asks for each layer.
var tileSizes = [3]protocol.TileSize{protocol.TileSmall, protocol.TileMedium, protocol.TileLarge}

// layoutMessage is the layout subscriber self sends, given the others'
// participant ids by member index; nil under LayoutFull.
func layoutMessage(layout string, self int, peers map[int]string) *protocol.Layout {
	if layout == LayoutFull {
		return nil
	}
	m := &protocol.Layout{Type: "layout", Tiles: make([]protocol.Tile, 0, len(peers))}
	for idx, id := range peers {
		if idx == self || id == "" {
			continue
		}
		m.Tiles = append(m.Tiles, protocol.Tile{Participant: id, Size: tileSizes[layoutLayer(layout, self, idx)]})
	}
	return m
}
