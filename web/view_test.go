package web_test

// The speaker view and pinning: one's own choice of how to see the group,
// against the scripted signaling server.

import (
	"testing"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
)

const joinedAnnWithThree = `{"type":"joined","version":1,
 "room":{"name":"open-circle","kind":"open","locked":false},
 "self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},
 "participants":[
  {"id":"p_bo","identity":"bo","name":"Bo","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_cy","identity":"cy","name":"Cy","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_lee","identity":"lee","name":"Dr Lee","role":"facilitator","muted":{"audio":false,"video":false},"tracks":[]}],
 "iceServers":[]}`

// featuredJS is the participant shown large, or "" in the gallery.
const featuredJS = `(document.querySelector('#grid[data-view="speaker"] > .tile[data-featured="true"]') || {dataset: {}}).dataset.participant || ""`

// TestSpeakerView: a member switches to the speaker view, which shows the
// facilitator large until someone speaks, then the speaker; the floor
// holder before the speaker; someone pinned before anyone; and back to
// the gallery, where every tile is the same size. The server is told which
// tile is large and which small. The choice of view outlasts a reload.
func TestSpeakerView(t *testing.T) {
	for _, size := range []browser.Options{browser.Desktop, browser.Phone} {
		name := "desktop"
		if size == browser.Phone {
			name = "phone"
		}
		t.Run(name, func(t *testing.T) {
			b, _, c, _ := joinAs(t, size, "open-circle", "Ann")
			c.send(t, joinedAnnWithThree)
			c.send(t, roomState(1, "", "p_ann:Ann:member", "p_bo:Bo:member", "p_cy:Cy:member", "p_lee:Dr Lee:facilitator"))
			wait(t, b, `hearth.screen === "call" && document.querySelectorAll("#grid .tile").length === 4 && !document.getElementById("view-button").hidden`)
			if !eval[bool](t, b, `document.getElementById("grid").dataset.view === "gallery"`) {
				t.Error("the first view is not the gallery")
			}

			click(t, b, "#view-button")
			wait(t, b, featuredJS+` === "p_lee" && document.getElementById("view-button").getAttribute("aria-pressed") === "true"`)
			announced(t, b, "Speaker view.")
			// The one shown is large, the others small beside each other.
			wait(t, b, `(() => {
				const big = document.querySelector('[data-featured="true"]').getBoundingClientRect();
				const small = [...document.querySelectorAll('#grid > .tile:not([data-featured="true"]):not([data-pip="true"])')].map(e => e.getBoundingClientRect());
				return small.length > 0 && small.every(r => r.width * 2 < big.width && r.top >= big.bottom);
			})()`)
			shot(t, b, "speaker-view-"+name)
			// The server is told: the one shown large, the others small,
			// so it sends each at the layer its tile needs.
			if size == browser.Desktop {
				for {
					m := c.expect(t, "layout")
					sizes := map[string]string{}
					tiles, _ := m["tiles"].([]any)
					for _, x := range tiles {
						tile, _ := x.(map[string]any)
						id, _ := tile["participant"].(string)
						sizes[id], _ = tile["size"].(string)
					}
					if sizes["p_lee"] == "large" && sizes["p_bo"] == "small" && sizes["p_cy"] == "small" {
						break
					}
				}
			}
			axeOn(t, b, "speaker view "+name)

			c.send(t, `{"type":"active_speaker","participant":"p_cy"}`)
			wait(t, b, featuredJS+` === "p_cy"`)
			// Silence keeps the last speaker shown.
			c.send(t, `{"type":"active_speaker","participant":null}`)
			c.send(t, roomState(2, `floor={"mode":"moderated","holder":"p_bo"}`, "p_ann:Ann:member", "p_bo:Bo:member", "p_cy:Cy:member", "p_lee:Dr Lee:facilitator"))
			wait(t, b, featuredJS+` === "p_bo"`)

			// A member pins someone from their tile's menu, which holds only that.
			click(t, b, `[data-participant="p_cy"] .tile-menu-button`)
			wait(t, b, `!document.getElementById("tile-menu").hidden`)
			if items := eval[[]string](t, b, `[...document.querySelectorAll("#tile-menu [role=menuitem]")].map(e => e.textContent)`); len(items) != 1 || items[0] != "Pin Cy" {
				t.Errorf("a member's tile menu = %q", items)
			}
			click(t, b, `#tile-menu [data-action="pin"]`)
			wait(t, b, featuredJS+` === "p_cy" && document.querySelector('[data-participant="p_cy"]').dataset.pinned === "true"`)
			announced(t, b, "Cy is pinned: shown large on your screen only.")
			c.send(t, `{"type":"active_speaker","participant":"p_lee"}`)
			wait(t, b, `hearth.activeSpeaker === "p_lee"`)
			if got := eval[string](t, b, featuredJS); got != "p_cy" {
				t.Errorf("with Cy pinned, %s is shown", got)
			}
			shot(t, b, "pinned-"+name)

			// Unpinned, the speaker is shown; the gallery makes all alike.
			click(t, b, `[data-participant="p_cy"] .tile-menu-button`)
			click(t, b, `#tile-menu [data-action="pin"]`)
			wait(t, b, featuredJS+` === "p_bo"`) // the floor before the speaker
			click(t, b, "#view-button")
			wait(t, b, featuredJS+` === "" && document.getElementById("grid").dataset.view === "gallery"`)
			wait(t, b, `new Set([...document.querySelectorAll('#grid > .tile:not([data-pip="true"])')].map(e => Math.round(e.getBoundingClientRect().width))).size === 1`)

			// The choice is this browser's: a reload keeps the speaker view.
			click(t, b, "#view-button")
			wait(t, b, `document.getElementById("grid").dataset.view === "speaker"`)
			checkClean(t, b)
		})
	}
	t.Run("reload", func(t *testing.T) {
		b, fake, c, _ := joinAs(t, browser.Desktop, "open-circle", "Ann")
		c.send(t, joinedWithResume("secret-1", false))
		c.send(t, roomState(1, "", "p_ann:Ann:member", "p_bo:Bo:member"))
		wait(t, b, `hearth.screen === "call" && !document.getElementById("view-button").hidden`)
		click(t, b, "#view-button")
		wait(t, b, featuredJS+` === "p_bo"`)
		reload(t, b)
		c2, _ := fake.accept(t)
		c2.send(t, joinedWithResume("secret-2", true))
		c2.send(t, roomState(2, "", "p_ann:Ann:member", "p_bo:Bo:member"))
		wait(t, b, `hearth.screen === "call" && document.getElementById("view-button").getAttribute("aria-pressed") === "true"`)
		wait(t, b, featuredJS+` === "p_bo"`)
	})
}
