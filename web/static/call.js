// The call screen: draw redraws the page from app (tiles, control bar,
// session strip, facilitator panel); the control bar's buttons; the
// facilitator panel's actions; who is speaking.

import { app, render, isJoining, send, sendMute, nameOf, videoPaused } from './state.js';
import { confirmDialog } from './dialog.js';
import { saveResume } from './resume.js';
import { renderConnectionBanner } from './connection.js';
import { FacilitatorPanel } from './facilitator.js';
import { tileFacts, silencedByFacilitator, selfGate, gateSentence } from './controls.js';
import { renderStrip } from './strip.js';
import { renderDeviceCheck, setCamera } from './devices.js';
import { openTileMenu } from './tile-menu.js';
import { renderChat, chatIsOpen, setChatOpen } from './chat.js';
import { renderPeople } from './people.js';
import { renderScreenShare } from './screenshare.js';
import { arrange, renderViewButton } from './view.js';
import { scheduleLayout } from './layers.js';
import * as text from './text.js';
import { $, announce, showNotice, setToggle, renderTiles, layoutGrid } from './ui.js';

// draw redraws the page from app: the buttons, the tiles, the session strip,
// the banner and the facilitator panel. Other modules call render
// (state.js), which calls this.
export function draw() {
  const inCall = app.screen === 'call';
  const joining = isJoining();
  $('join-button').disabled = joining;
  $('join-button').textContent = joining ? 'Joining…' : 'Join';
  $('rejoin-button').disabled = joining;
  $('leave-button').disabled = app.leaving;
  const v = inCall ? app.view : null;
  // While the devices start, the buttons already take the person's choice.
  const starting = app.mediaStarting && app.self && app.self.role !== 'observer';
  setToggle($('mic-button'), {
    kind: 'audio', muted: app.micMuted, available: Boolean(app.local.audio) || starting, mode: micMode('audio'), why: gateSentence(v, nameOf),
  });
  setToggle($('cam-button'), { kind: 'video', muted: app.camMuted, available: Boolean(app.local.video) || app.cameraReleased || starting, mode: micMode('video') });
  const member = Boolean(app.self && app.self.role === 'member');
  const isFac = Boolean(app.self && text.isFacilitator(app.self.role));
  const hand = $('hand-button');
  hand.hidden = !(v && member);
  const raised = Boolean(v && v.handPos.has(app.self.id));
  hand.setAttribute('aria-pressed', String(raised));
  hand.querySelector('.ctrl-label').textContent = raised ? 'Lower hand' : 'Raise hand';

  const entries = [];
  if (inCall && app.self) {
    entries.push({
      id: app.self.id,
      name: app.self.name || app.params.name,
      role: app.self.role,
      self: true,
      // Off when the group does not hear us, whatever the reason.
      micOff: app.micMuted || !app.local.audio || Boolean(selfGate(v)),
      camOff: app.camMuted || !app.local.video || silencedByFacilitator(v, 'video'),
      videoTrack: app.local.video,
      audioTrack: null,
      away: app.state === 'reconnecting',
      speaking: app.activeSpeaker === app.self.id,
      facts: tileFacts(v, app.self.id),
      pip: app.participants.size > 0 && window.matchMedia('(max-width: 600px)').matches,
    });
    const received = new Map();
    for (const r of app.session ? app.session.remoteTracks() : []) {
      const got = received.get(r.participant) || {};
      got[r.kind] = r.track;
      received.set(r.participant, got);
      watchTrack(r.track);
    }
    // Media from someone the roster has not told us about yet still plays.
    const people = [...app.participants.values()];
    for (const id of received.keys()) {
      if (!app.participants.has(id) && id !== app.self.id) {
        people.push({ id, name: '', role: '', muted: { audio: false, video: false }, tracks: [], state: 'active' });
      }
    }
    for (const p of people) {
      // In a side room one sees only the people there.
      if (v && v.inSideRoom && !v.inSide(p.id)) continue;
      const got = received.get(p.id) || {};
      const publishesAudio = p.tracks.some((t) => t.kind === 'audio') || Boolean(got.audio);
      const facts = tileFacts(v, p.id);
      entries.push({
        id: p.id,
        name: p.name || nameOf(p.id),
        role: p.role,
        self: false,
        // Someone in the side room is neither heard nor seen by the group.
        micOff: p.muted.audio || !publishesAudio || Boolean(facts.unheard) || Boolean(facts.sideRoom),
        camOff: p.muted.video || !got.video || Boolean(facts.enforcedVideo) || Boolean(facts.sideRoom),
        videoTrack: got.video || null,
        audioTrack: got.audio || null,
        // Paused by the server because our connection cannot carry it.
        videoPaused: videoPaused(p.id),
        weak: Boolean(p.weak),
        away: p.state === 'reconnecting',
        speaking: app.activeSpeaker === p.id,
        facts,
        // Everyone may pin; facilitators' menus also hold their controls.
        menu: Boolean(v) && app.participants.has(p.id),
      });
    }
  }
  renderDeviceCheck();
  $('devices-button').hidden = !(inCall && app.self && app.self.role !== 'observer');
  renderScreenShare(inCall);
  renderViewButton(inCall);
  const grid = $('grid');
  grid.dataset.view = arrange(entries, v, $('stage').dataset.sharing === 'true');
  renderTiles(grid, entries);
  grid.dataset.pip = String(entries.some((e) => e.pip));
  layoutGrid(grid);
  scheduleLayout();
  const settled = app.state === 'connecting' || app.state === 'connected';
  // Alone in the room: said only when nobody is waiting to come in either.
  $('alone-message').hidden = !(inCall && settled && app.self && app.participants.size === 0 && app.waitingList.length === 0);
  renderConnectionBanner(inCall);
  if (app.moment && app.moment.until <= performance.now()) app.moment = null;
  renderStrip(v, nameOf, inCall && Boolean(app.self), app.moment);

  // Everyone seated has the People panel: facilitators its controls,
  // others the list of who is here.
  const seated = inCall && Boolean(app.self);
  $('panel-button').hidden = !seated;
  const waiting = app.waitingList.length;
  const asking = v ? v.participants.filter((p) => p.id !== app.self.id && p.unmuteRequested && p.unmuteRequested.audio).length : 0;
  $('panel-badge').hidden = !isFac || waiting + asking === 0;
  $('panel-badge').textContent = String(waiting + asking);
  const said = [waiting ? `${waiting} waiting` : '', asking ? `${asking} asking to speak` : ''].filter(Boolean);
  $('panel-button').setAttribute('aria-label', isFac && said.length ? `People, ${said.join(', ')}` : 'People');
  const wide = window.matchMedia('(min-width: 900px)').matches;
  const open = seated && (app.panelOpen === null ? wide && isFac && !chatIsOpen() : app.panelOpen);
  $('panel').hidden = !open;
  $('panel-title').textContent = isFac ? 'People and session' : 'People';
  $('panel-close').setAttribute('aria-label', isFac ? 'Close people and session' : 'Close people');
  $('panel-button').setAttribute('aria-expanded', String(open));
  document.body.dataset.panel = open ? 'open' : 'closed';
  if (isFac) {
    if (!app.panel) {
      $('panel-sections').replaceChildren();
      app.panel = new FacilitatorPanel($('panel-sections'), facilitatorActions);
    }
    app.panel.update(panelView());
  } else if (seated) {
    app.panel = null;
    renderPeople($('panel-sections'));
  }
  renderChat();
}

function panelView() {
  return {
    room: app.room,
    self: app.self,
    participants: [...app.participants.values()],
    waitingList: app.waitingList,
    roll: app.roll,
    ctl: inCallView(),
    talkTime: app.talkTime,
    nameOf,
  };
}

function inCallView() {
  return app.screen === 'call' ? app.view : null;
}

// onGridClick opens a facilitator's menu from a person's tile.
export function onGridClick(ev) {
  const b = ev.target.closest('.tile-menu-button');
  const tile = b && b.closest('[data-participant]');
  if (tile) openTileMenu(b, tile.dataset.participant, panelView(), facilitatorActions, Boolean(app.self && text.isFacilitator(app.self.role)));
}

// watchTrack redraws when a received track starts or stops getting media,
// so that a tile shows the name instead of a frozen or black picture.
function watchTrack(track) {
  if (app.watchedTracks.has(track)) return;
  app.watchedTracks.add(track);
  track.addEventListener('mute', render);
  track.addEventListener('unmute', render);
}

// micMode says what the microphone button does now (see the hooks in app.js).
// While the floor or a go-around keeps us from being heard, the button says
// so ("floor") rather than showing a live microphone.
function micMode(kind) {
  const v = app.view;
  if (kind === 'audio' && ['floor', 'round'].includes(selfGate(v))) return 'floor';
  if (v && silencedByFacilitator(v, kind)) {
    if (v.canSelfUnmute) return 'lift';
    return v.requested[kind] ? 'cancel' : 'ask';
  }
  return 'normal';
}

export function onMediaButton(kind) {
  const held = app.local[kind] || (kind === 'video' && app.cameraReleased);
  if (!held && !app.mediaStarting) return;
  const mode = micMode(kind);
  const device = kind === 'audio' ? 'Microphone' : 'Camera';
  if (mode === 'floor') {
    // Nothing to switch: the floor decides. Say so, and what helps.
    const why = gateSentence(app.view, nameOf);
    const help = app.view && app.view.round ? 'Your turn will come.' : 'Raise your hand if you would like to speak.';
    showNotice(`${why} ${help}`);
    announce(`${why} ${help}`);
    return;
  }
  if (mode === 'ask') {
    send({ type: 'request_unmute', kind });
    announce(kind === 'audio' ? 'You asked to speak. The facilitator will see your request.' : 'You asked to turn on your camera.');
    return;
  }
  if (mode === 'cancel') {
    send({ type: 'cancel_unmute_request', kind });
    announce('Request cancelled.');
    return;
  }
  if (mode === 'lift') {
    // We may lift the facilitator's mute ourselves; doing so means we want
    // to be heard (or seen), so our own mute goes too.
    send({ type: 'request_unmute', kind });
    setLocalMute(kind, false);
    announce(`${device} on.`);
    render();
    return;
  }
  const muted = kind === 'audio' ? !app.micMuted : !app.camMuted;
  setLocalMute(kind, muted);
  announce(kind === 'audio' ? (muted ? 'Microphone off.' : 'Microphone on.') : (muted ? 'Camera off.' : 'Camera on.'));
  render();
}

function setLocalMute(kind, muted) {
  if (kind === 'audio') {
    app.micMuted = muted;
    if (app.local.audio) app.local.audio.enabled = !muted;
  } else {
    // The camera is let go while off, and got again when turned on.
    setCamera(!muted).then(render);
  }
  sendMute(kind, muted);
  saveResume();
}

export function toggleHand() {
  const raised = Boolean(app.view && app.self && app.view.handPos.has(app.self.id));
  if (send({ type: raised ? 'lower_hand' : 'raise_hand' })) {
    announce(raised ? 'You lowered your hand.' : 'You raised your hand. The facilitator will see it.');
  }
}

// onRequestButton answers a request to speak from the session strip.
export function onRequestButton(ev) {
  const b = ev.target.closest('button[data-action]');
  const li = b && b.closest('[data-request]');
  if (!li) return;
  const id = li.dataset.request;
  if (b.dataset.action === 'allow') send({ type: 'mute_participant', participant: id, kind: 'audio', muted: false });
  else send({ type: 'decline_unmute', participant: id, kind: 'audio' });
}

export function togglePanel(open) {
  app.panelOpen = open;
  // Two side panels leave the pictures too little room but on the widest
  // screens: the messages close.
  if (open && chatIsOpen() && !window.matchMedia('(min-width: 1400px)').matches) setChatOpen(false, { focus: false });
  render();
  if (open) $('panel-title').focus();
  else $('panel-button').focus();
}

const facilitatorActions = {
  admit: (id) => send({ type: 'admit', participant: id }),
  deny: (id) => send({ type: 'deny', participant: id }),
  setLocked(locked) {
    if (!send({ type: 'lock', locked })) return;
    // Shown at once; an error for `lock` turns it back.
    app.room = { ...app.room, locked };
    announce(locked ? 'Room locked.' : 'Room unlocked.');
    render();
  },
  send,
  confirm: confirmDialog,
  // The room_state version the panel was drawn from.
  version: () => (app.roomState ? app.roomState.version : 0),
  refresh: () => render(),
};

// A soft ring shows who is speaking, from the sound levels in the stats.
const SPEAKING_LEVEL = 0.04;
export const SPEAKING_POLL_MS = 400;

export async function updateSpeaking() {
  if (!app.session || app.screen !== 'call') return;
  let levels;
  try {
    levels = await app.session.audioLevels();
  } catch {
    return;
  }
  for (const tile of $('grid').children) {
    const id = tile.dataset.self === 'true' ? 'self' : tile.dataset.participant;
    const muted = tile.dataset.micOff === 'true';
    tile.dataset.speaking = String(!muted && (levels.get(id) || 0) > SPEAKING_LEVEL);
  }
}

// Browsers may refuse to start sound until the person touches the page.
export function resumeBlockedMedia() {
  for (const el of document.querySelectorAll('[data-blocked="true"]')) {
    delete el.dataset.blocked;
    el.play().catch(() => { el.dataset.blocked = 'true'; });
  }
}
