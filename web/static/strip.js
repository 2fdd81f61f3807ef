// The session strip above the video grid: who may speak now (the floor, a
// go-around and its countdown), the private aside, the side room, the raised hands, the
// requests to speak (for facilitators), whether one is heard oneself, and a
// short moment when a timed share ends. Drawn from the view of controls.js.

import { $, announce } from './ui.js';
import { clock } from './text.js';
import { selfGate, silencedByFacilitator, sideRoomSentence } from './controls.js';

// The countdown of a timed share turns to its last-minute look, and says so
// once, this long before the end.
export const LAST_MINUTE_MS = 60_000;

// renderStrip draws the strip from the view v; moment is {text} of a share
// that just ended, or null.
export function renderStrip(v, nameOf, show, moment) {
  const strip = $('session-info');
  if (!v || !show) {
    strip.hidden = true;
    return;
  }
  const me = v.selfId;
  const you = (id) => (id === me ? 'you' : nameOf(id));

  // A share that just ended: said plainly for a few seconds.
  $('moment-info').hidden = !moment;
  $('moment-text').textContent = moment ? moment.text : '';

  // Who may speak now.
  let turn = '';
  let mine = false;
  if (v.round) {
    if (v.myTurn) {
      turn = "It's your turn in the go-around. Others can hear you.";
      mine = true;
    } else if (v.round.current) {
      turn = `Go-around: ${nameOf(v.round.current)} is sharing.`;
      if (v.imNext) turn += ' You are next.';
      else if (v.round.next) turn += ` ${nameOf(v.round.next)} is next.`;
    } else {
      turn = 'Go-around in progress.';
    }
  } else if (v.holder) {
    mine = v.isHolder;
    if (mine) turn = 'You have the floor. Others can hear you.';
    else if (v.mode === 'moderated') turn = `${nameOf(v.holder)} has the floor. Only they and the facilitators are heard.`;
    else turn = `${nameOf(v.holder)} has the floor. Everyone can still be heard.`;
  } else if (v.moderated) {
    turn = v.isFac
      ? 'The floor is moderated: only facilitators and whoever has the floor are heard.'
      : 'The facilitator has the floor.';
  }
  const turnInfo = $('turn-info');
  turnInfo.hidden = !turn;
  turnInfo.dataset.mine = String(mine);
  $('turn-text').textContent = turn;
  $('turn-actions').hidden = !v.myTurn;
  $('share-timer').hidden = !(turn && v.timer && v.holder);
  const extend = $('extend-timer-button');
  extend.hidden = !(v.isFac && turn && v.timer && v.holder);
  if (!extend.hidden) extend.setAttribute('aria-label', `Add one minute for ${v.isHolder ? 'yourself' : nameOf(v.holder)}`);
  updateTimers(v, nameOf);

  // The aside: everyone sees that it happens, never what is said.
  const asideInfo = $('aside-info');
  asideInfo.hidden = !v.aside;
  if (v.aside) {
    asideInfo.dataset.mine = String(v.inAside);
    $('aside-text').textContent = v.inAside
      ? `You are talking privately with ${nameOf(v.asidePeer)}. Only the two of you hear each other.`
      : `${nameOf(v.aside.host)} is talking privately with ${nameOf(v.aside.member)}.`;
    $('end-aside-button').hidden = !(v.inAside && (v.isFac || v.aside.member === me));
  }

  // The side room: inside it, that the group cannot see or hear you, and
  // the way back; in the group, who is with whom.
  const sideInfo = $('side-room-info');
  sideInfo.hidden = !v.sideRoom;
  if (v.sideRoom) {
    sideInfo.dataset.mine = String(v.inSideRoom);
    $('side-room-text').textContent = sideRoomSentence(v, nameOf);
    const back = $('side-room-back-button');
    back.hidden = !(v.inSideRoom || v.isFac);
    back.textContent = !v.isFac ? 'Back to the group' : v.inSideRoom ? 'Everyone back to the group' : 'Bring them back';
  }

  // The facilitator role, handed to a member for the session.
  const facInfo = $('facilitation-info');
  facInfo.hidden = !v.facilitation;
  if (v.facilitation) {
    facInfo.dataset.mine = String(v.acting);
    $('facilitation-text').textContent = v.acting
      ? 'You are facilitating this session.'
      : `${nameOf(v.facilitation.participant)} is facilitating this session.`;
    const back = $('facilitation-button');
    back.hidden = !(v.acting || v.isFac);
    back.textContent = v.acting ? 'Give the role back' : 'Take the role back';
  }

  // A peer-led room with nobody facilitating: members run it themselves.
  const peerInfo = $('peer-info');
  peerInfo.hidden = !v.peersLead;
  if (v.peersLead) {
    $('peer-text').textContent = v.round
      ? 'Nobody is facilitating: anyone may move the go-around on or end it.'
      : 'Nobody is facilitating: anyone may start a go-around or give the floor to the first raised hand.';
    $('peer-round-button').textContent = v.round ? 'End the go-around' : 'Start a go-around';
    $('peer-round-button').dataset.action = v.round ? 'end_round' : 'start_round';
    $('peer-next-button').hidden = !v.round;
    $('peer-floor-button').hidden = Boolean(v.round) || v.hands.length === 0;
  }

  // Raised hands, in queue order.
  const handsInfo = $('hands-info');
  handsInfo.hidden = v.hands.length === 0;
  const queue = $('hands-queue');
  const items = v.hands.map((h) => you(h.participant));
  if (queue.dataset.items !== JSON.stringify(items)) {
    queue.dataset.items = JSON.stringify(items);
    queue.replaceChildren(...v.hands.map((h, i) => {
      const li = document.createElement('li');
      li.dataset.hand = h.participant;
      if (h.participant === me) li.dataset.self = 'true';
      li.textContent = h.participant === me ? 'You' : items[i];
      return li;
    }));
  }

  // Requests to speak, for facilitators: seen without opening the panel.
  const asking = v.isFac
    ? v.participants.filter((p) => p.id !== me && p.unmuteRequested && p.unmuteRequested.audio)
    : [];
  const requestsInfo = $('requests-info');
  requestsInfo.hidden = asking.length === 0;
  drawRequests($('requests-queue'), asking.map((p) => ({ id: p.id, name: nameOf(p.id) })));

  // Whether the group hears oneself, and what to do about it.
  $('self-text').textContent = selfSentence(v, nameOf);
  $('self-info').hidden = !$('self-text').textContent;

  strip.hidden = [turnInfo, asideInfo, sideInfo, facInfo, peerInfo, handsInfo, requestsInfo, $('self-info'), $('moment-info')].every((el) => el.hidden);
}

// selfSentence says, when something other than one's own mute keeps one
// from being heard, why and which button helps.
function selfSentence(v, nameOf) {
  const gate = selfGate(v);
  let s = '';
  if (gate === 'round') {
    s = v.imNext ? "You can't be heard until your turn. You are next." : "You can't be heard until your turn.";
  } else if (gate === 'floor') {
    s = "You can't be heard right now. To speak, raise your hand: the facilitator can give you the floor.";
  } else if (gate === 'muted') {
    if (v.requested.audio) s = 'You asked to speak. The facilitator will see your request.';
    else if (v.canSelfUnmute) s = 'You are muted by the facilitator. You can unmute when you are ready.';
    else s = 'You are muted by the facilitator. Select Ask to speak to be unmuted; Raise hand puts you in line for the floor.';
  }
  if (silencedByFacilitator(v, 'video')) s += (s ? ' ' : '') + 'Your camera is off by the facilitator.';
  return s;
}

function drawRequests(list, items) {
  const key = JSON.stringify(items);
  if (list.dataset.items === key) return;
  list.dataset.items = key;
  list.replaceChildren(...items.map((r) => {
    const li = document.createElement('li');
    li.dataset.request = r.id;
    const name = document.createElement('span');
    name.className = 'request-name';
    name.textContent = r.name;
    const allow = button('Allow', `Allow ${r.name} to speak`, 'allow', 'btn-primary');
    const decline = button('Not now', `Not now for ${r.name}`, 'decline', 'btn-quiet');
    li.append(name, allow, decline);
    return li;
  }));
}

function button(label, aria, action, kind) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn ${kind} btn-small`;
  b.dataset.action = action;
  b.textContent = label;
  b.setAttribute('aria-label', aria);
  return b;
}

// The last minute of the share in view, announced once.
let lastMinuteSaid = '';

// updateTimers redraws every countdown of a timed share from its deadline;
// app.js calls it a few times a second. The last minute has a look of its
// own and is said once, politely, to the speaker and to facilitators; at
// zero the countdown says the time is up until the server moves the floor.
export function updateTimers(v, nameOf) {
  const left = v && v.timer ? Math.max(0, v.timer.deadline - performance.now()) : 0;
  let phase = '';
  let text = '';
  if (v && v.timer) {
    phase = left === 0 ? 'up' : left <= LAST_MINUTE_MS ? 'last' : '';
    text = left === 0 ? 'Time is up' : `${clock(left)} left`;
  }
  for (const el of document.querySelectorAll('[data-countdown]')) {
    if (el.textContent !== text) el.textContent = text;
    el.dataset.remainingMs = String(Math.round(left));
    el.dataset.phase = phase;
  }
  if (!v || !v.timer || !v.holder || phase !== 'last') return;
  const key = `${v.holder}:${Math.round(v.timer.deadline / 1000)}`;
  // A share of a minute or less starts in its last minute: nothing to warn of.
  if (lastMinuteSaid === key || v.timer.seconds * 1000 <= LAST_MINUTE_MS) return;
  lastMinuteSaid = key;
  if (v.isHolder) announce('About one minute left. Take your time to finish.');
  else if (v.isFac) announce(`About one minute left for ${nameOf ? nameOf(v.holder) : 'the speaker'}.`);
}
