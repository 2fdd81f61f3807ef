package web_test

// Facilitator controls within reach: a menu on each tile, the panel on a
// phone leaving the call buttons free, notices that fit the situation, and
// a phone layout where names are whole and tiles sit two by two.

import (
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

const joinedDrLee = `{"type":"joined","version":1,
 "room":{"name":"thursday-circle","kind":"closed","locked":false},
 "self":{"id":"p_self","identity":"dr-lee","name":"Dr Lee","role":"facilitator"},
 "participants":[
  {"id":"p_sam","identity":"sam","name":"Sam Rivera","role":"co-facilitator","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_rae","identity":"rae","name":"Rae","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_kim","identity":"kim","name":"Kim","role":"member","muted":{"audio":false,"video":false},"tracks":[]}],
 "iceServers":[]}`

var drLeePeople = []string{"p_self:Dr Lee:facilitator", "p_sam:Sam Rivera:co-facilitator", "p_rae:Rae:member", "p_kim:Kim:member"}

// TestTileMenu opens a person's menu from their tile with the mouse and
// with the keyboard, and checks what its items send.
func TestTileMenu(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "thursday-circle", "Dr Lee")
	c.send(t, joinedDrLee)
	c.send(t, roomState(1, "", drLeePeople...))
	wait(t, b, `hearth.screen === "call" && document.querySelector('[data-participant="p_rae"] .tile-menu-button:not([hidden])') !== null`)
	if got := text(t, b, "#panel-title"); got != "People and session" {
		t.Errorf("panel title = %q", got)
	}
	if !eval[bool](t, b, `document.querySelector('[data-self] .tile-menu-button').hidden`) {
		t.Error("one's own tile has a menu")
	}
	click(t, b, `[data-participant="p_rae"] .tile-menu-button`)
	wait(t, b, `!document.getElementById("tile-menu").hidden && document.activeElement.getAttribute("role") === "menuitem"`)
	items := eval[[]string](t, b, `[...document.querySelectorAll("#tile-menu [role=menuitem]")].map(e => e.textContent)`)
	want := []string{"Pin Rae", "Mute Rae", "Turn off Rae's camera", "Give the floor to Rae", "Talk privately with Rae", "Take Rae to a side room", "Hand the facilitator role to Rae", "Let Rae share their screen", "Remove Rae…"}
	if len(items) != len(want) {
		t.Fatalf("menu items = %q, want %q", items, want)
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("menu items = %q, want %q", items, want)
			break
		}
	}
	installChecks(t, b)
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	shot(t, b, "tile-menu-desktop")
	click(t, b, `#tile-menu [data-action="mute-audio"]`)
	if m := c.expect(t, "mute_participant"); m["participant"] != "p_rae" || m["muted"] != true || m["kind"] != "audio" {
		t.Errorf("mute from the tile = %v", m)
	}
	wait(t, b, `document.getElementById("tile-menu").hidden && document.activeElement.matches('[data-participant="p_rae"] .tile-menu-button')`)

	// With the keyboard: Enter opens, arrows move, Escape closes.
	if err := b.Press(t.Context(), "\r"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `!document.getElementById("tile-menu").hidden`)
	if err := b.Press(t.Context(), kb.ArrowDown+kb.ArrowDown+kb.ArrowDown); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.activeElement.dataset.action === "give-floor"`)
	if err := b.Press(t.Context(), "\x1b"); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.getElementById("tile-menu").hidden && document.activeElement.matches('[data-participant="p_rae"] .tile-menu-button') && !document.getElementById("panel").hidden`)

	// Remove asks first.
	click(t, b, `[data-participant="p_kim"] .tile-menu-button`)
	click(t, b, `#tile-menu [data-action="remove"]`)
	wait(t, b, `document.getElementById("confirm-dialog").open`)
	click(t, b, "#confirm-ok")
	if m := c.expect(t, "remove"); m["participant"] != "p_kim" {
		t.Errorf("remove from the tile = %v", m)
	}
	checkClean(t, b)
}

// TestFacilitatorOnPhone: names whole, two columns, one's own picture
// small; with people waiting no "first one here"; the open panel leaves
// the call buttons free.
func TestFacilitatorOnPhone(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "thursday-circle", "Dr Lee")
	c.send(t, `{"type":"joined","version":1,"room":{"name":"thursday-circle","kind":"closed","locked":false},
		"self":{"id":"p_self","identity":"dr-lee","name":"Dr Lee","role":"facilitator"},"participants":[],"iceServers":[]}`)
	c.send(t, waitingTwo)
	wait(t, b, `hearth.screen === "call" && hearth.waitingList.length === 2`)
	if !eval[bool](t, b, `document.getElementById("alone-message").hidden`) {
		t.Error(`"first one here" shows while two people wait`)
	}
	c.send(t, `{"type":"waiting_list","entries":[]}`)
	wait(t, b, `!document.getElementById("alone-message").hidden`)
	c.send(t, joinedDrLee)
	c.send(t, roomState(1, "", drLeePeople...))
	wait(t, b, `document.querySelectorAll("#grid .tile").length === 4 && document.getElementById("alone-message").hidden`)
	wait(t, b, `document.querySelector("[data-self]").dataset.pip === "true"`)
	// Names whole: no tile's name is cut.
	cut := eval[[]string](t, b, `[...document.querySelectorAll("#grid .tile-name")].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)`)
	noneOf(t, "names cut short", cut)
	roles := eval[[]string](t, b, `[...document.querySelectorAll("#grid .tile-role:not([hidden])")].filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)`)
	noneOf(t, "roles cut short", roles)
	// Two columns, and one's own picture small.
	if !eval[bool](t, b, `(() => { const t = [...document.querySelectorAll('#grid .tile:not([data-pip="true"])')].map(e => e.getBoundingClientRect()); return t.length === 3 && Math.abs(t[0].top - t[1].top) < 1 && t[1].left > t[0].right })()`) {
		t.Error("the others' tiles are not two by two")
	}
	if a := eval[float64](t, b, `(() => { const r = document.querySelector("[data-self]").getBoundingClientRect(); return r.width * r.height / (innerWidth * innerHeight) })()`); a > 0.1 {
		t.Errorf("one's own tile covers %.0f%% of the screen", a*100)
	}
	// No blank gap above the tiles.
	if gap := eval[float64](t, b, `document.querySelector('#grid .tile:not([data-pip="true"])').getBoundingClientRect().top - document.getElementById("grid").getBoundingClientRect().top`); gap > 1 {
		t.Errorf("a gap of %.0fpx above the tiles", gap)
	}
	shot(t, b, "facilitator-call-phone")
	click(t, b, "#panel-button")
	wait(t, b, `!document.getElementById("panel").hidden`)
	// The call buttons stay visible and take clicks.
	for _, id := range []string{"mic-button", "leave-button", "panel-button"} {
		if !eval[bool](t, b, `(() => { const el = document.getElementById(`+jsString(id)+`); const r = el.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return el.contains(hit); })()`) {
			t.Errorf("the open panel covers #%s", id)
		}
	}
	shot(t, b, "facilitator-panel-phone")
	checkClean(t, b)
}
