package live

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hearth-rtc/hearth/protocol"
	"github.com/hearth-rtc/hearth/sfu"
)

// The tiles a client shows (its layout) as the SFU needs them: the most of
// each camera it is to receive (a simulcast layer, or none), and the order
// in which cameras give way when its bandwidth runs short. The SFU learns
// no roles: the order puts first, whatever the layout, the people a
// subscriber must keep seeing.

// view is how a subscriber shows one participant's camera.
type view struct {
	size   protocol.TileSize
	pinned bool
}

// layout is the views a subscriber's client last reported, by participant
// id; bounded by the people seated when it was reported.
type layout map[string]view

// layoutSlack is how many tiles past the people seated a layout may name:
// people who left while the client was sending it.
const layoutSlack = 4

// readLayout checks the tiles a client reports, sent by self. seated tells
// whether an id holds a seat here, and count how many do. Tiles of people
// not seated (gone meanwhile) and of self are left out; anything else
// wrong refuses the whole layout.
func readLayout(tiles []protocol.Tile, self string, seated func(string) bool, count int) (layout, error) {
	if len(tiles) > count+layoutSlack {
		return nil, errInvalid(fmt.Sprintf("A layout names each participant at most once: %d tiles is more than the %d people here.", len(tiles), count))
	}
	lay := make(layout, len(tiles))
	seen := make(map[string]bool, len(tiles))
	for _, t := range tiles {
		if t.Participant == "" {
			return nil, errInvalid("Each tile of a layout names a participant.")
		}
		if seen[t.Participant] {
			return nil, errInvalid("A layout names each participant at most once.")
		}
		seen[t.Participant] = true
		size, err := tileSize(t)
		if err != nil {
			return nil, err
		}
		if t.Participant != self && seated(t.Participant) {
			lay[t.Participant] = view{size: size, pinned: t.Pinned}
		}
	}
	return lay, nil
}

// tileSize is a tile's size class: its own, or else its width's.
func tileSize(t protocol.Tile) (protocol.TileSize, error) {
	if t.Width < 0 || t.Height < 0 || t.Width > protocol.MaxTileWidth || t.Height > protocol.MaxTileWidth {
		return "", errInvalid(fmt.Sprintf("A tile's width and height are from 0 to %d pixels.", protocol.MaxTileWidth))
	}
	switch t.Size {
	case protocol.TileHidden, protocol.TileSmall, protocol.TileMedium, protocol.TileLarge:
		return t.Size, nil
	case "":
	default:
		return "", errInvalid("A tile's size is \"hidden\", \"small\", \"medium\" or \"large\" (or give its width and height in pixels).")
	}
	switch {
	case t.Width == 0 || t.Height == 0:
		return protocol.TileHidden, nil
	case t.Width <= protocol.SmallTileWidth:
		return protocol.TileSmall, nil
	case t.Width <= protocol.MediumTileWidth:
		return protocol.TileMedium, nil
	}
	return protocol.TileLarge, nil
}

// layerOf is the most of a camera shown at size that is forwarded: a
// simulcast layer, lowest 0, or sfu.LayerPaused.
func layerOf(size protocol.TileSize) int {
	switch size {
	case protocol.TileHidden:
		return sfu.LayerPaused
	case protocol.TileSmall:
		return 0
	case protocol.TileMedium:
		return 1
	}
	return 2
}

// sizeRank orders sizes for importance: larger first; a participant the
// layout does not name (shown as the client pleases) as medium.
func sizeRank(v view, named bool) int {
	if !named {
		return 1
	}
	switch v.size {
	case protocol.TileLarge:
		return 0
	case protocol.TileMedium:
		return 1
	case protocol.TileSmall:
		return 2
	}
	return 3
}

// importance orders the publishers others (everyone seated but the
// subscriber) by how much the subscriber needs to see them, most first:
// keep first, in its order, then pinned tiles, then larger tiles, then by
// id, so that the order is the same for the same inputs.
func importance(others []string, keep []string, lay layout) []string {
	out := make([]string, 0, len(others))
	for _, id := range keep {
		if slices.Contains(others, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	rest := make([]string, 0, len(others))
	for _, id := range others {
		if !slices.Contains(out, id) {
			rest = append(rest, id)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		va, na := lay[a]
		vb, nb := lay[b]
		if va.pinned != vb.pinned {
			if va.pinned {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(sizeRank(va, na), sizeRank(vb, nb)), cmp.Compare(a, b))
	})
	return append(out, rest...)
}

// keepInView lists, most needed first, the people sub is never to lose
// the video of before others: the floor holder (the speaker of a round's
// turn, too), the active speaker, the person sub is in an aside with,
// and the facilitators and co-facilitators.
func (c *Controls) keepInView(sub, speaker string) []string {
	keep := make([]string, 0, 4)
	if c.floor.holder != "" {
		keep = append(keep, c.floor.holder)
	}
	if speaker != "" {
		keep = append(keep, speaker)
	}
	if a := c.aside; a != nil && a.has(sub) {
		keep = append(keep, a.host, a.member)
	}
	facs := make([]string, 0, 2)
	for id, s := range c.parts {
		if s.p.Role.IsFacilitator() {
			facs = append(facs, id)
		}
	}
	slices.Sort(facs)
	return append(keep, facs...)
}

// videoLayers is the message telling a publisher which layers of its
// camera anybody receives; false for a track sent without simulcast,
// which has nothing to pause.
func videoLayers(tl sfu.TrackLayers) (protocol.VideoLayers, bool) {
	msg := protocol.VideoLayers{Type: "video_layers", Track: tl.Track.ID, Layers: make([]protocol.VideoLayer, 0, len(tl.RIDs))}
	for i, rid := range tl.RIDs {
		if rid != "" {
			msg.Layers = append(msg.Layers, protocol.VideoLayer{RID: rid, Active: tl.Wanted[i]})
		}
	}
	return msg, len(msg.Layers) >= 2
}
