package web_test

// The facilitator controls and turn-taking, and reconnection, against the
// scripted signaling server: the client must draw room_state as the
// protocol says, ignore stale versions, and send the right commands.
// e2e_controls_test.go checks the same controls against the real server,
// with media.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-rtc/hearth/internal/testutil/browser"
	"github.com/hearth-rtc/hearth/internal/testutil/budget"
)

const joinedMember = `{"type":"joined","version":1,
 "room":{"name":"tuesday-grief","kind":"open","locked":false},
 "self":{"id":"p_ann","identity":"anon-1","name":"Ann","role":"member"},
 "participants":[
  {"id":"p_dana","identity":"dana","name":"Dana","role":"facilitator","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_ben","identity":"anon-2","name":"Ben Okafor","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
  {"id":"p_cai","identity":"anon-3","name":"Cai","role":"member","muted":{"audio":false,"video":false},"tracks":[]}],
 "iceServers":[]}`

// roomState builds a room_state message. people are "id:name:role" with
// optional flags after another colon: m (muted audio), r (asked to speak),
// s (self-muted audio), q (not audible), a (audible all the same: the floor
// or an aside lifts the mute).
func roomState(version int, extra string, people ...string) string {
	var ps []string
	for _, p := range people {
		f := strings.Split(p, ":")
		flags := ""
		if len(f) > 3 {
			flags = f[3]
		}
		has := func(c string) bool { return strings.Contains(flags, c) }
		ps = append(ps, fmt.Sprintf(`{"id":%q,"identity":%q,"name":%q,"role":%q,
			"selfMuted":{"audio":%t,"video":false},"muted":{"audio":%t,"video":false},
			"unmuteRequested":{"audio":%t,"video":false},"audible":%t}`,
			f[0], f[0], f[1], f[2], has("s"), has("m"), has("r"), has("a") || !has("m") && !has("q") && !has("s")))
	}
	fields := map[string]string{
		"policy": `{"selfUnmute":false,"joinMuted":true,"floorReturn":"facilitator"}`,
		"hands":  `[]`,
		"floor":  `{"mode":"open"}`,
		"round":  `null`,
		"aside":  `null`,
	}
	for _, kv := range splitTop(extra) {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	return fmt.Sprintf(`{"type":"room_state","version":%d,"ended":false,"policy":%s,"participants":[%s],
		"hands":%s,"floor":%s,"round":%s,"aside":%s,"change":{"kind":"joined"}}`,
		version, fields["policy"], strings.Join(ps, ","), fields["hands"], fields["floor"], fields["round"], fields["aside"])
}

// splitTop splits "a=x;b=y" on semicolons.
func splitTop(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

var memberPeople = []string{"p_dana:Dana:facilitator", "p_ann:Ann:member", "p_ben:Ben Okafor:member", "p_cai:Cai:member"}

func with(people []string, id, flags string) []string {
	out := append([]string(nil), people...)
	for i, p := range out {
		if strings.HasPrefix(p, id+":") {
			out[i] = p + ":" + flags
		}
	}
	return out
}

func announced(t *testing.T, b *browser.Browser, want string) {
	t.Helper()
	expr := `document.getElementById("announcer").textContent.includes(` + jsString(want) + `)`
	if err := b.WaitJS(t.Context(), expr, budget.Step); err != nil {
		t.Fatalf("not announced: %q\nlast announcement: %q", want, text(t, b, "#announcer"))
	}
}

func text(t *testing.T, b page, sel string) string {
	t.Helper()
	return eval[string](t, b, `document.querySelector(`+jsString(sel)+`).textContent.trim()`)
}

// TestControlsMember walks a member through a session: muted on arrival,
// asking to speak, raising a hand, a timed share, a go-around with a Pass
// button, a private aside between others, and someone reconnecting.
func TestControlsMember(t *testing.T) {
	for _, tc := range screenSizes {
		t.Run(tc.name, func(t *testing.T) {
			b, _, c, _ := joinAs(t, tc.opts, "tuesday-grief", "Ann")
			c.send(t, joinedMember)
			wait(t, b, `hearth.screen === "call"`)
			if !eval[bool](t, b, `document.getElementById("hand-button").hidden`) {
				t.Error("the hand button shows before the server sent any room_state")
			}

			// Joined muted by the policy: the client says so and offers to ask.
			c.send(t, roomState(3, "", with(memberPeople, "p_ann", "m")...))
			wait(t, b, `hearth.roomState && hearth.roomState.version === 3`)
			wait(t, b, `document.getElementById("mic-button").dataset.mode === "ask"`)
			if got := text(t, b, "#mic-button .ctrl-label"); got != "Ask to speak" {
				t.Errorf("mic button says %q while muted by the facilitator", got)
			}
			if got := text(t, b, "#self-text"); got != "You are muted by the facilitator. Select Ask to speak to be unmuted; Raise hand puts you in line for the floor." {
				t.Errorf("self info = %q", got)
			}
			announced(t, b, "Your microphone is muted by the facilitator.")
			wait(t, b, `document.querySelector("[data-self]").dataset.micOff === "true" && hearth.localTracks.audio !== null`)
			if eval[bool](t, b, `!hearth.localTracks.audio.enabled`) {
				t.Error("the microphone track was disabled: giving the floor could not unmute")
			}
			click(t, b, "#mic-button")
			if m := c.expect(t, "request_unmute", "mute"); m["type"] != "request_unmute" || m["kind"] != "audio" {
				t.Errorf("asking to speak sent %v", m)
			}
			c.send(t, roomState(4, "", with(memberPeople, "p_ann", "mr")...))
			wait(t, b, `document.getElementById("mic-button").dataset.mode === "cancel"`)
			if got := text(t, b, "#self-text"); !strings.Contains(got, "You asked to speak") {
				t.Errorf("self info after asking = %q", got)
			}
			click(t, b, "#mic-button")
			if m := c.expect(t, "cancel_unmute_request", "mute"); m["type"] != "cancel_unmute_request" {
				t.Errorf("cancelling sent %v", m)
			}

			// Raise a hand; the queue shows in order.
			wait(t, b, `!document.getElementById("hand-button").hidden`)
			click(t, b, "#hand-button")
			c.expect(t, "raise_hand")
			hands := `hands=[{"participant":"p_ben","since":"2026-01-01T10:00:00Z"},{"participant":"p_ann","since":"2026-01-01T10:00:05Z"}]`
			c.send(t, roomState(5, hands, with(memberPeople, "p_ann", "m")...))
			wait(t, b, `document.getElementById("hand-button").getAttribute("aria-pressed") === "true"`)
			if got := eval[[]string](t, b, `[...document.querySelectorAll("#hands-queue li")].map(li => li.textContent)`); strings.Join(got, ",") != "Ben Okafor,You" {
				t.Errorf("hand queue = %q", got)
			}
			wait(t, b, `document.querySelector('[data-participant="p_ben"]').dataset.hand === "1"`)
			if got := text(t, b, "#hand-button .ctrl-label"); got != "Lower hand" {
				t.Errorf("hand button = %q", got)
			}

			// An older version arriving late changes nothing.
			c.send(t, roomState(4, "", with(memberPeople, "p_ann", "mr")...))
			c.send(t, `{"type":"pong"}`)
			wait(t, b, `hearth.received.pong === 1`)
			if v := eval[int](t, b, `hearth.roomState.version`); v != 5 {
				t.Errorf("a stale room_state replaced the newer one: version %d", v)
			}
			if !eval[bool](t, b, `!document.getElementById("hands-info").hidden`) {
				t.Error("a stale room_state hid the hand queue")
			}

			// Ben has the floor for two minutes; the countdown runs.
			c.send(t, roomState(6, `hands=[{"participant":"p_ann","since":"2026-01-01T10:00:05Z"}];floor={"mode":"open","holder":"p_ben","timer":{"seconds":120,"endsAt":"2026-01-01T10:02:00Z","remainingMs":95000}}`,
				with(memberPeople, "p_ann", "m")...))
			wait(t, b, `document.getElementById("turn-text").textContent === "Ben Okafor has the floor. Everyone can still be heard."`)
			wait(t, b, `/^1:3\d left$/.test(document.getElementById("share-timer").textContent)`)
			first := eval[int](t, b, `Number(document.getElementById("share-timer").dataset.remainingMs)`)
			wait(t, b, fmt.Sprintf(`Number(document.getElementById("share-timer").dataset.remainingMs) < %d - 600`, first))
			wait(t, b, `document.querySelector('[data-participant="p_ben"]').dataset.floor === "true"`)
			shot(t, b, "member-hands-timer-"+tc.name)

			// Ann gets the floor: heard although muted, and told so.
			c.send(t, roomState(7, `floor={"mode":"open","holder":"p_ann","timer":{"seconds":180,"endsAt":"2026-01-01T10:05:00Z","remainingMs":180000}}`,
				with(memberPeople, "p_ann", "ma")...))
			announced(t, b, "You have the floor. Others can hear you. You have 3 minutes.")
			wait(t, b, `document.getElementById("turn-info").dataset.mine === "true" && document.getElementById("self-info").hidden`)
			wait(t, b, `document.getElementById("mic-button").dataset.mode === "normal" && document.querySelector("[data-self]").dataset.micOff === "false"`)
			shot(t, b, "member-floor-"+tc.name)

			// A go-around: Ben first, Ann next; then Ann's turn with Pass.
			round := func(current, next, benStatus string) string {
				return fmt.Sprintf(`floor={"mode":"moderated","holder":%q,"timer":{"seconds":120,"endsAt":"2026-01-01T10:07:00Z","remainingMs":120000}};round={"order":"join","seconds":120,"current":%q,"next":%q,"turns":[{"participant":"p_ben","status":%q},{"participant":"p_ann","status":"%s"},{"participant":"p_cai","status":"pending"}]}`,
					current, current, next, benStatus, map[bool]string{true: "speaking", false: "pending"}[current == "p_ann"])
			}
			c.send(t, roomState(8, round("p_ben", "p_ann", "speaking"), with(memberPeople, "p_ann", "m")...))
			announced(t, b, "A go-around has started. Ben Okafor goes first. You are next.")
			if got := text(t, b, "#turn-text"); got != "Go-around: Ben Okafor is sharing. You are next." {
				t.Errorf("round text = %q", got)
			}
			wait(t, b, `document.querySelector('[data-participant="p_ann"], [data-self]').dataset.turn === "next"`)
			c.send(t, roomState(9, round("p_ann", "p_cai", "spoke"), with(memberPeople, "p_ann", "ma")...))
			announced(t, b, "It's your turn. Others can hear you.")
			wait(t, b, `!document.getElementById("turn-actions").hidden`)
			installChecks(t, b)
			noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
			noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
			noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
			if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth`) {
				t.Error("the call screen scrolls sideways")
			}
			shot(t, b, "member-round-turn-"+tc.name)
			click(t, b, "#pass-button")
			c.expect(t, "pass")
			// Our own mute works as ever while we may speak.
			click(t, b, "#mic-button")
			if m := c.expect(t, "mute", "request_unmute"); m["type"] != "mute" || m["muted"] != true {
				t.Errorf("muting ourselves sent %v", m)
			}

			// The server names who is speaking.
			c.send(t, `{"type":"active_speaker","participant":"p_dana"}`)
			wait(t, b, `document.querySelector('[data-participant="p_dana"]').dataset.activeSpeaker === "true"`)
			if got := eval[string](t, b, `document.querySelector('[data-participant="p_dana"]').getAttribute("aria-label")`); !strings.HasSuffix(got, "speaking") {
				t.Errorf("Dana's tile label = %q", got)
			}
			c.send(t, `{"type":"active_speaker","participant":null}`)
			wait(t, b, `hearth.activeSpeaker === null && document.querySelector('[data-participant="p_dana"]').dataset.activeSpeaker === "false"`)

			// Others talk privately: everyone sees that, nobody hears it.
			c.send(t, roomState(10, `aside={"host":"p_dana","member":"p_cai"}`,
				with(with(with(memberPeople, "p_ann", "m"), "p_dana", "q"), "p_cai", "q")...))
			announced(t, b, "The go-around has ended. Dana is talking privately with Cai.")
			if got := text(t, b, "#aside-text"); got != "Dana is talking privately with Cai." {
				t.Errorf("aside text = %q", got)
			}
			if !eval[bool](t, b, `document.getElementById("end-aside-button").hidden`) {
				t.Error("a member outside the aside is offered to end it")
			}
			wait(t, b, `document.querySelector('[data-participant="p_cai"]').dataset.aside === "true" && document.querySelector('[data-participant="p_dana"]').dataset.aside === "true"`)

			// Someone's connection drops and comes back; the speaker is marked.
			c.send(t, `{"type":"participant_updated","participant":{"id":"p_ben","identity":"anon-2","name":"Ben Okafor","role":"member","muted":{"audio":false,"video":false},"state":"reconnecting"}}`)
			wait(t, b, `document.querySelector('[data-participant="p_ben"]').dataset.state === "reconnecting"`)
			announced(t, b, "Ben Okafor lost their connection and is reconnecting.")
			if got := eval[string](t, b, `document.querySelector('[data-participant="p_ben"]').getAttribute("aria-label")`); !strings.Contains(got, "reconnecting") {
				t.Errorf("Ben's tile label = %q", got)
			}
			shot(t, b, "member-aside-reconnecting-"+tc.name)
			c.send(t, `{"type":"participant_updated","participant":{"id":"p_ben","identity":"anon-2","name":"Ben Okafor","role":"member","muted":{"audio":false,"video":false},"state":"active"}}`)
			announced(t, b, "Ben Okafor is back.")
			wait(t, b, `document.querySelector('[data-participant="p_ben"]').dataset.state === "active"`)

			// With self-unmute allowed, one click lifts the mute and unmutes.
			c.send(t, roomState(11, `policy={"selfUnmute":true,"joinMuted":true,"floorReturn":"facilitator"}`, with(memberPeople, "p_ann", "ms")...))
			wait(t, b, `document.getElementById("mic-button").dataset.mode === "lift"`)
			click(t, b, "#mic-button")
			if m := c.expect(t, "request_unmute", "mute"); m["type"] != "request_unmute" {
				t.Errorf("lifting sent %v first", m)
			}
			if m := c.expect(t, "mute"); m["muted"] != false || m["kind"] != "audio" {
				t.Errorf("then %v", m)
			}
			wait(t, b, `hearth.localTracks.audio.enabled`)

			// The server says the session ended.
			c.send(t, `{"type":"bye","reason":"ended"}`)
			wait(t, b, `hearth.screen === "ended"`)
			checkClean(t, b)
		})
	}
}

// TestControlsFacilitator drives every control of the facilitator panel and
// checks the message each sends.
func TestControlsFacilitator(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Desktop, "tuesday-grief", "Dana")
	c.send(t, `{"type":"joined","version":1,
	 "room":{"name":"tuesday-grief","kind":"closed","locked":false},
	 "self":{"id":"p_dana","identity":"dana","name":"Dana","role":"facilitator"},
	 "participants":[
	  {"id":"p_ann","identity":"ann","name":"Ann","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
	  {"id":"p_ben","identity":"ben","name":"Ben Okafor","role":"member","muted":{"audio":false,"video":false},"tracks":[]},
	  {"id":"p_sam","identity":"sam","name":"Sam","role":"co-facilitator","muted":{"audio":false,"video":false},"tracks":[]}],
	 "iceServers":[]}`)
	people := []string{"p_dana:Dana:facilitator", "p_sam:Sam:co-facilitator", "p_ann:Ann:member", "p_ben:Ben Okafor:member:mr"}
	c.send(t, roomState(1, `policy={"selfUnmute":false,"joinMuted":false,"floorReturn":"facilitator"};hands=[{"participant":"p_ann","since":"2026-01-01T10:00:00Z"}]`, people...))
	c.send(t, `{"type":"talk_time","entries":[
		{"participant":"p_ben","name":"Ben Okafor","role":"member","speakingMs":0},
		{"participant":"p_ann","name":"Ann","role":"member","speakingMs":65000},
		{"participant":"p_sam","name":"Sam","role":"co-facilitator","speakingMs":184250}]}`)
	wait(t, b, `hearth.screen === "call" && !document.getElementById("panel").hidden`)
	wait(t, b, `document.querySelector('#hands-list [data-hand="p_ann"]') !== null`)
	if !eval[bool](t, b, `document.getElementById("hand-button").hidden`) {
		t.Error("the facilitator has a raise-hand button")
	}

	// Hands and requests to speak.
	click(t, b, `#hands-list [data-hand="p_ann"] [data-action="give-floor"]`)
	if m := c.expect(t, "give_floor"); m["participant"] != "p_ann" || m["seconds"] != nil {
		t.Errorf("give floor = %v", m)
	}
	if got := text(t, b, "#give-floor-next"); got != "Give floor to Ann" {
		t.Errorf("give-floor-next says %q", got)
	}
	if err := b.Eval(t.Context(), `(() => { const s = document.getElementById("share-length"); s.value = "180"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	wait(t, b, `document.getElementById("give-floor-next").textContent === "Give floor to Ann for 3 minutes"`)
	click(t, b, "#give-floor-next")
	if m := c.expect(t, "give_floor"); m["participant"] != nil || m["seconds"] != 180.0 {
		t.Errorf("give floor to the next hand = %v", m)
	}
	click(t, b, `#hands-list [data-hand="p_ann"] [data-action="lower-hand"]`)
	if m := c.expect(t, "lower_hand"); m["participant"] != "p_ann" {
		t.Errorf("lower hand = %v", m)
	}
	wait(t, b, `document.querySelector('#requests-list [data-request="p_ben"]') !== null`)
	click(t, b, `#requests-list [data-request="p_ben"] [data-action="allow"]`)
	if m := c.expect(t, "mute_participant"); m["participant"] != "p_ben" || m["muted"] != false || m["kind"] != "audio" {
		t.Errorf("allow = %v", m)
	}
	click(t, b, `#requests-list [data-request="p_ben"] [data-action="decline"]`)
	if m := c.expect(t, "decline_unmute"); m["participant"] != "p_ben" || m["kind"] != "audio" {
		t.Errorf("decline = %v", m)
	}

	// Per person: mute, camera, floor, aside, remove with block.
	click(t, b, `[data-person="p_ann"] [data-action="mute-audio"]`)
	if m := c.expect(t, "mute_participant"); m["participant"] != "p_ann" || m["muted"] != true || m["kind"] != "audio" {
		t.Errorf("mute = %v", m)
	}
	click(t, b, `[data-person="p_ann"] [data-action="more"]`)
	wait(t, b, `document.querySelector('[data-person="p_ann"] [data-action="more"]').getAttribute("aria-expanded") === "true"`)
	click(t, b, `[data-person="p_ann"] [data-action="mute-video"]`)
	if m := c.expect(t, "mute_participant"); m["kind"] != "video" || m["muted"] != true {
		t.Errorf("camera off = %v", m)
	}
	click(t, b, `[data-person="p_ann"] [data-action="give-floor"]`)
	if m := c.expect(t, "give_floor"); m["participant"] != "p_ann" || m["seconds"] != 180.0 {
		t.Errorf("give floor from the list = %v", m)
	}
	click(t, b, `[data-person="p_ann"] [data-action="aside"]`)
	if m := c.expect(t, "start_aside"); m["participant"] != "p_ann" {
		t.Errorf("aside = %v", m)
	}
	click(t, b, `[data-person="p_ann"] [data-action="remove"]`)
	wait(t, b, `document.getElementById("confirm-dialog").open && document.activeElement.id === "confirm-cancel"`)
	if got := text(t, b, "#confirm-title"); got != "Remove Ann from the session?" {
		t.Errorf("dialog title = %q", got)
	}
	shot(t, b, "facilitator-remove-dialog-desktop")
	click(t, b, "#confirm-block")
	click(t, b, "#confirm-ok")
	if m := c.expect(t, "remove"); m["participant"] != "p_ann" || m["block"] != true {
		t.Errorf("remove = %v", m)
	}
	wait(t, b, `!document.getElementById("confirm-dialog").open`)

	// A facilitator's mute shows in the list; the state is the truth.
	c.send(t, roomState(2, `policy={"selfUnmute":false,"joinMuted":false,"floorReturn":"facilitator"};aside={"host":"p_dana","member":"p_ann"};floor={"mode":"open","holder":"p_ben","timer":{"seconds":180,"endsAt":"2026-01-01T10:05:00Z","remainingMs":150000}}`,
		"p_dana:Dana:facilitator", "p_sam:Sam:co-facilitator", "p_ann:Ann:member:mq", "p_ben:Ben Okafor:member"))
	wait(t, b, `document.querySelector('[data-person="p_ann"] [data-action="mute-audio"]').dataset.muted === "true"`)
	// In the aside Dana hears Ann: the list does not call her muted.
	wait(t, b, `document.querySelector('[data-person="p_ann"] .person-meta').textContent === "talking privately with you"`)
	if got := text(t, b, `[data-person="p_ann"] [data-action="aside"]`); got != "End private talk with Ann" {
		t.Errorf("aside button = %q", got)
	}
	if got := text(t, b, "#aside-text"); got != "You are talking privately with Ann. Only the two of you hear each other." {
		t.Errorf("aside text for the host = %q", got)
	}
	click(t, b, "#end-aside-button")
	c.expect(t, "end_aside")
	wait(t, b, `/^2:\d\d left$/.test(document.getElementById("panel-timer").textContent)`)
	click(t, b, "#take-floor")
	c.expect(t, "take_floor")
	click(t, b, "#set-timer")
	if m := c.expect(t, "set_timer"); m["seconds"] != 180.0 {
		t.Errorf("set timer = %v", m)
	}

	// Floor mode, and a policy the server refuses: the box turns back.
	click(t, b, `label:has(#floor-moderated)`)
	if m := c.expect(t, "set_floor_mode"); m["mode"] != "moderated" {
		t.Errorf("floor mode = %v", m)
	}
	click(t, b, `label:has(#policy-self-unmute)`)
	if m := c.expect(t, "set_policy"); m["selfUnmute"] != true || len(m) != 2 {
		t.Errorf("policy = %v", m)
	}
	wait(t, b, `document.getElementById("policy-self-unmute").checked`)
	c.send(t, `{"type":"error","code":"forbidden","message":"no","ref":"set_policy"}`)
	wait(t, b, `!document.getElementById("policy-self-unmute").checked && document.getElementById("floor-open").checked`)
	click(t, b, `label:has(#policy-join-muted)`)
	if m := c.expect(t, "set_policy"); m["joinMuted"] != true {
		t.Errorf("join muted = %v", m)
	}
	if err := b.Eval(t.Context(), `(() => { const s = document.getElementById("policy-floor-return"); s.value = "next"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(t, "set_policy"); m["floorReturn"] != "next" {
		t.Errorf("floor return = %v", m)
	}
	click(t, b, "#mute-all")
	if m := c.expect(t, "mute_all"); m["muted"] != true || m["kind"] != "audio" {
		t.Errorf("mute all = %v", m)
	}

	// A go-around.
	if err := b.Eval(t.Context(), `(() => { for (const [id, v] of [["round-order", "roster"], ["turn-length", "120"]]) { const s = document.getElementById(id); s.value = v; s.dispatchEvent(new Event("change", {bubbles: true})); } return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	click(t, b, "#start-round")
	if m := c.expect(t, "start_round"); m["order"] != "roster" || m["seconds"] != 120.0 {
		t.Errorf("start round = %v", m)
	}
	c.send(t, roomState(3, `floor={"mode":"moderated","holder":"p_ann","timer":{"seconds":120,"endsAt":"2026-01-01T10:07:00Z","remainingMs":84000}};round={"order":"roster","seconds":120,"current":"p_ann","next":"p_ben","turns":[{"participant":"p_ann","status":"speaking"},{"participant":"p_ben","status":"pending"}]};hands=[{"participant":"p_ben","since":"2026-01-01T10:00:00Z"}]`,
		"p_dana:Dana:facilitator", "p_sam:Sam:co-facilitator", "p_ann:Ann:member", "p_ben:Ben Okafor:member:q"))
	wait(t, b, `!document.getElementById("round-running").hidden && document.querySelectorAll("#round-turns [data-turn]").length === 2`)
	if got := eval[[]string](t, b, `[...document.querySelectorAll("#round-turns [data-turn]")].map(li => li.dataset.turn + " " + li.querySelector(".person-meta").textContent)`); strings.Join(got, ",") != "p_ann sharing now,p_ben next" {
		t.Errorf("turns = %q", got)
	}
	if !eval[bool](t, b, `document.querySelector('#hands-list [data-action="give-floor"]').disabled`) {
		t.Error("giving the floor is offered during a round")
	}
	if eval[bool](t, b, `document.documentElement.scrollHeight > innerHeight`) {
		t.Error("the page scrolls as a whole; only the panel should")
	}
	// The panel is long: scroll to the round for the picture.
	click(t, b, "#notice-close")
	if err := b.Eval(t.Context(), `document.querySelector('[data-section="round"]').scrollIntoView(); true`, nil); err != nil {
		t.Fatal(err)
	}
	shot(t, b, "facilitator-round-desktop")
	click(t, b, `#round-turns [data-turn="p_ben"] [data-action="skip"]`)
	if m := c.expect(t, "skip"); m["participant"] != "p_ben" {
		t.Errorf("skip later = %v", m)
	}
	click(t, b, "#skip-turn")
	if m := c.expect(t, "skip"); m["participant"] != nil {
		t.Errorf("skip current = %v", m)
	}
	click(t, b, "#next-turn")
	c.expect(t, "next_turn")
	click(t, b, "#end-round")
	c.expect(t, "end_round")

	// Talk time, least heard first as the server sent it.
	if got := eval[[]string](t, b, `[...document.querySelectorAll("#talk-time-list [data-talk]")].map(li => li.querySelector(".talk-name").textContent + " " + li.querySelector(".talk-amount").textContent)`); strings.Join(got, ",") != "Ben Okafor not heard yet,Ann 1 min 5 s,Sam 3 min 4 s" {
		t.Errorf("talk time = %q", got)
	}

	installChecks(t, b)
	noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))

	// Ending the session asks first; cancelling sends nothing.
	click(t, b, "#end-session-button")
	wait(t, b, `document.getElementById("confirm-dialog").open`)
	if !eval[bool](t, b, `document.getElementById("confirm-block-field").hidden`) {
		t.Error("the end-session dialog offers to block someone")
	}
	click(t, b, "#confirm-cancel")
	wait(t, b, `!document.getElementById("confirm-dialog").open && document.activeElement.id === "end-session-button"`)
	c.none(t, 300*time.Millisecond, "end_session")
	click(t, b, "#end-session-button")
	click(t, b, "#confirm-ok")
	c.expect(t, "end_session")
	checkClean(t, b)
}

// TestControlsFacilitatorPhone checks the panel's controls in the phone
// sheet: sizes, contrast and no sideways scrolling.
func TestControlsFacilitatorPhone(t *testing.T) {
	b, _, c, _ := joinAs(t, browser.Phone, "tuesday-grief", "Dana")
	c.send(t, joinedFacilitator)
	c.send(t, roomState(1, `hands=[{"participant":"p_lee","since":"2026-01-01T10:00:00Z"}];floor={"mode":"moderated","holder":"p_lee","timer":{"seconds":180,"endsAt":"2026-01-01T10:05:00Z","remainingMs":150000}}`,
		"p_self:Dana:facilitator", "p_sam:Sam Rivera:co-facilitator:s", "p_lee:Lee:member:m"))
	wait(t, b, `hearth.screen === "call" && hearth.roomState !== null`)
	wait(t, b, `document.querySelector("[data-self]").dataset.camOff === "false"`)
	shot(t, b, "facilitator-call-phone")
	click(t, b, "#panel-button")
	wait(t, b, `!document.getElementById("panel").hidden && document.activeElement.id === "panel-title"`)
	shot(t, b, "facilitator-panel-top-phone")
	click(t, b, `[data-person="p_lee"] [data-action="more"]`)
	installChecks(t, b)
	noneOf(t, "controls without an accessible name", eval[[]string](t, b, `__checks.unnamed()`))
	noneOf(t, "text under WCAG AA contrast", eval[[]string](t, b, `__checks.lowContrast(4.5)`))
	noneOf(t, "targets smaller than 44px", eval[[]string](t, b, `__checks.smallTargets(44)`))
	if eval[bool](t, b, `document.documentElement.scrollWidth > innerWidth || document.getElementById("panel").scrollWidth > document.getElementById("panel").clientWidth`) {
		t.Error("the panel scrolls sideways on a phone")
	}
	shot(t, b, "facilitator-panel-phone")
	if err := b.Eval(t.Context(), `document.querySelector('[data-section="people"]').scrollIntoView(); true`, nil); err != nil {
		t.Fatal(err)
	}
	shot(t, b, "facilitator-panel-people-phone")
	checkClean(t, b)
}
