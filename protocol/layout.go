package protocol

// Layout and video layers (PROTOCOL.md, "Video layers"): a client says
// how large it shows each participant's camera, the server forwards each
// camera at the simulcast layer that size needs, and tells each publisher
// which of its layers anybody receives.

// TileSize is how large a client shows a participant's camera.
type TileSize string

const (
	// TileHidden: not shown (off screen, or a speaker view showing
	// someone else); no video is sent, audio is.
	TileHidden TileSize = "hidden"
	// TileSmall: a thumbnail; the lowest layer.
	TileSmall TileSize = "small"
	// TileMedium: a gallery tile; the middle layer.
	TileMedium TileSize = "medium"
	// TileLarge: the speaker or a pinned tile; the highest layer.
	TileLarge TileSize = "large"
)

// Tile sizes in CSS pixels of width, for a tile given by its width: up to
// SmallTileWidth is small, up to MediumTileWidth medium, wider large.
const (
	SmallTileWidth  = 360
	MediumTileWidth = 720
	// MaxTileWidth bounds a tile's width and height, in CSS pixels.
	MaxTileWidth = 16384
)

// MaxLayoutTiles bounds how many tiles one layout message may name.
const MaxLayoutTiles = 256

// Tile is one participant's camera as a client shows it: by Size, or
// else by its Width and Height in CSS pixels (0 by 0 is hidden). Pinned
// marks a tile the person chose to keep in view.
type Tile struct {
	Participant string   `json:"participant"`
	Size        TileSize `json:"size,omitempty"`
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	Pinned      bool     `json:"pinned,omitempty"`
}

// Layout is the tiles a client shows now; it replaces the last one.
type Layout struct {
	Type  string `json:"type"`
	Tiles []Tile `json:"tiles"`
}

// VideoLayer is one simulcast layer of a published camera, by rid: Active
// says whether anybody receives it.
type VideoLayer struct {
	RID    string `json:"rid"`
	Active bool   `json:"active"`
}

// VideoLayers tells a publisher which layers of its video track anybody
// receives, lowest first: it may pause the others and resumes them when
// they are active again.
type VideoLayers struct {
	Type   string       `json:"type"`
	Track  string       `json:"track"`
	Layers []VideoLayer `json:"layers"`
}

// VideoPaused tells a client that the video of a participant it shows
// (a camera, or a screen share when Screen) is paused because its
// connection cannot carry it now, even at the lowest layer (Paused), or
// that it comes again (not Paused). Sound is never paused this way.
type VideoPaused struct {
	Type        string `json:"type"`
	Participant string `json:"participant"`
	Track       string `json:"track"`
	Screen      bool   `json:"screen,omitempty"`
	Paused      bool   `json:"paused"`
}

// HearingQuality is a client saying whether much of the sound it
// receives is lost on the way (Poor), by its own counts: others are told
// its connection is weak.
type HearingQuality struct {
	Type string `json:"type"`
	Poor bool   `json:"poor"`
}

// SendingQuality tells a client whether much of the sound it sends is
// lost on the way to the server (Poor), and how much was over the last
// few seconds (Lost, a fraction): others may hear it break up.
type SendingQuality struct {
	Type string  `json:"type"`
	Poor bool    `json:"poor"`
	Lost float64 `json:"lost"`
}
