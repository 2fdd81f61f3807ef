/*
 * Hearth browser client: joining, the call, the waiting room and the
 * facilitator panel. Protocol: signaling/PROTOCOL.md.
 *
 * Modules
 *   app.js          this file: state, and what happens on each message
 *   signaling.js    the websocket, with pings
 *   session.js      the RTCPeerConnection (negotiation, ICE, track owners)
 *   media.js        microphone and camera
 *   ui.js           drawing screens, the status line and the video grid
 *   facilitator.js  the facilitator panel, made of sections
 *   text.js         the words shown to people
 *
 * Stable hooks for automated tests
 *
 *   body[data-screen]         "join" | "waiting" | "call" | "ended"
 *   Join:     #join-form, #room, #name, #passcode (shown when needed),
 *             #start-mic, #start-cam, #join-button, #join-error
 *   Waiting:  #waiting-screen, #waiting-message, #waiting-leave-button
 *   Call:     #call-screen, #room-title, #grid,
 *             tiles .tile[data-participant="<id>"][data-testid="tile"]
 *               with data-self="true" on your own tile,
 *               data-mic-off and data-cam-off = "true" | "false";
 *             #mic-button, #cam-button (data-muted="true" | "false"),
 *             #panel-button, #leave-button,
 *             #status (data-state = connecting | connected | reconnecting |
 *               disconnected), #status-text, #notice + #notice-text
 *               (errors and warnings), #announcer (aria-live)
 *   Panel:    #panel, #waiting-list > li[data-waiting="<id>"] with
 *             button[data-action="admit"] and button[data-action="deny"],
 *             #admit-all, #deny-all, #lock-button (aria-pressed),
 *             #people-list > li[data-person="<id>"]
 *   Ended:    #ended-screen, #ended-title, #ended-message, #rejoin-button,
 *             #start-over-button
 *
 *   window.hearth (read only)
 *     state         "idle" | "connecting" | "waiting" | "connected" |
 *                   "reconnecting" | "disconnected" | "ended"
 *     screen        as body[data-screen]
 *     selfId, self  our participant id and record
 *     room          {name, kind, locked}
 *     participants  the others: [{id, identity, name, role, muted, tracks}]
 *     waitingList   entries of the last waiting_list message
 *     pc            the RTCPeerConnection, or null
 *     localTracks   {audio, video}: MediaStreamTrack or null
 *     lastError     {code, message, ref} of the last error message
 *     received      count of messages received, by type
 *     inboundStats()   Promise of [{participant, kind, mid, trackIdentifier,
 *                      packetsReceived, bytesReceived, framesDecoded}], one
 *                      per inbound RTP stream, participant from the msid
 *     outboundStats()  Promise of [{kind, mid, packetsSent, bytesSent,
 *                      framesEncoded}]
 */

import { Signaling, signalingURL } from './signaling.js';
import { MediaSession } from './session.js';
import { getLocalMedia, stopTracks } from './media.js';
import { FacilitatorPanel } from './facilitator.js';
import * as text from './text.js';
import {
  $, showScreen, setStatus, announce, showNotice, hideNotice, showJoinError,
  setFieldError, setToggle, renderTiles, layoutGrid,
} from './ui.js';

const ROOM_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
const LEAVE_WAIT_MS = 1500;
const NAME_KEY = 'hearth.name';
const TOKEN_KEY = 'hearth.invite';

const app = {
  state: 'idle',
  screen: 'join',
  params: null, // {room, name, token, passcode, startMic, startCam}
  sig: null,
  session: null,
  gotReply: false, // joined or waiting on the current socket
  retries: 0,
  retryTimer: 0,
  leaving: false,

  self: null,
  room: null,
  participants: new Map(),
  waitingList: [],
  lastError: null,
  received: {},

  local: { audio: null, video: null },
  mediaProblems: [],
  micMuted: false,
  camMuted: false,

  panel: null,
  panelOpen: null, // null until the person chooses; then true or false
  watchedTracks: new WeakSet(),
  invite: null, // {token, room}
};

// ---------------------------------------------------------------- state

function setState(state) {
  app.state = state;
  if (state !== 'idle' && state !== 'ended') setStatus(state);
}

function setScreen(name, focusEl) {
  app.screen = name;
  showScreen(name, focusEl);
  render();
}

function connectionStateFromPC(pcState) {
  switch (pcState) {
    case 'connected': return 'connected';
    case 'disconnected':
    case 'failed': return 'reconnecting';
    case 'closed': return 'disconnected';
    default: return 'connecting';
  }
}

// ---------------------------------------------------------------- join

function readInvite() {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const token = hash.get('token');
  const roomFromURL = roomFromLocation();
  if (token) {
    app.invite = { token, room: roomFromURL };
    try {
      sessionStorage.setItem(TOKEN_KEY, JSON.stringify(app.invite));
    } catch { /* storage may be off; the token still works for this visit */ }
    // Keep the token out of the address bar, so it is not shared by
    // copying the address or seen over a shoulder.
    history.replaceState(null, '', window.location.pathname + window.location.search);
  } else {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
      if (saved && saved.token && (!roomFromURL || !saved.room || saved.room === roomFromURL)) app.invite = saved;
    } catch { /* ignore */ }
  }
}

function roomFromLocation() {
  const m = window.location.pathname.match(/^\/r\/([^/]+)\/?$/);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  return new URLSearchParams(window.location.search).get('room') || '';
}

function currentToken(room) {
  if (!app.invite) return '';
  if (app.invite.room && app.invite.room !== room) return '';
  return app.invite.token;
}

function prefillJoinForm() {
  const room = roomFromLocation() || (app.invite && app.invite.room) || '';
  $('room').value = room;
  let name = '';
  try {
    name = localStorage.getItem(NAME_KEY) || '';
  } catch { /* ignore */ }
  $('name').value = name;
  updateNameHint();
}

function updateNameHint() {
  const hasToken = Boolean(currentToken($('room').value.trim()));
  $('name-optional').hidden = !hasToken;
  $('name').required = !hasToken;
  $('name-hint').textContent = hasToken
    ? 'Your invitation already says who you are. You can add the name you would like to be called.'
    : 'This is how others will see you. A first name is enough.';
}

function onJoinSubmit(ev) {
  ev.preventDefault();
  showJoinError('');
  const room = $('room').value.trim();
  const name = $('name').value.trim().replace(/\s+/g, ' ');
  const token = currentToken(room);
  let firstBad = null;
  if (!room) {
    setFieldError('room', 'Please enter the room name from your invitation.');
    firstBad = firstBad || $('room');
  } else if (!ROOM_PATTERN.test(room)) {
    setFieldError('room', 'A room name uses only letters, numbers, dots, dashes and underscores.');
    firstBad = firstBad || $('room');
  } else {
    setFieldError('room', '');
  }
  if (!name && !token) {
    setFieldError('name', 'Please enter your name.');
    firstBad = firstBad || $('name');
  } else if (Array.from(name).length > 64) {
    setFieldError('name', 'Please use a shorter name (up to 64 characters).');
    firstBad = firstBad || $('name');
  } else {
    setFieldError('name', '');
  }
  if (firstBad) {
    firstBad.focus();
    return;
  }
  if (name) {
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch { /* ignore */ }
  }
  app.params = {
    room,
    name,
    token,
    passcode: $('passcode-field').hidden ? '' : $('passcode').value,
    startMic: $('start-mic').checked,
    startCam: $('start-cam').checked,
  };
  startJoin();
}

async function startJoin() {
  if (isJoining()) return;
  window.clearTimeout(app.retryTimer);
  app.retries = 0;
  app.leaving = false;
  app.lastError = null;
  app.gotReply = false;
  hideNotice();
  setState('connecting');
  render();
  try {
    if (!app.local.audio && !app.local.video) {
      const media = await getLocalMedia();
      app.local = { audio: media.audio, video: media.video };
      app.mediaProblems = media.problems;
      for (const kind of ['audio', 'video']) {
        const track = app.local[kind];
        if (track) track.addEventListener('ended', () => onLocalTrackEnded(kind, track));
      }
    }
    app.micMuted = !app.params.startMic;
    app.camMuted = !app.params.startCam;
    if (app.local.audio) app.local.audio.enabled = !app.micMuted;
    if (app.local.video) app.local.video.enabled = !app.camMuted;
    await connect();
  } catch (err) {
    console.warn('hearth: joining failed:', err);
    app.state = 'idle';
    setScreen('join');
    showJoinError('Something went wrong while joining. Please try again.');
  }
}

// isJoining reports whether a join is under way and has had no answer yet.
function isJoining() {
  return app.state === 'connecting' && !app.gotReply && app.screen !== 'call';
}

function onLocalTrackEnded(kind, track) {
  if (app.local[kind] !== track) return;
  const device = kind === 'audio' ? 'microphone' : 'camera';
  showNotice(`Your ${device} stopped working. Others can no longer ${kind === 'audio' ? 'hear' : 'see'} you.`, { error: true });
  if (kind === 'audio') app.micMuted = true;
  else app.camMuted = true;
  sendMute(kind, true);
  render();
}

// connect opens a socket and sends join; used for the first attempt and for
// every reconnection.
async function connect() {
  const sig = new Signaling(signalingURL(), {
    onMessage: (msg) => {
      if (app.sig === sig) onMessage(msg);
    },
    onClose: (info) => {
      if (app.sig === sig) onSocketClose(info);
    },
  });
  app.sig = sig;
  app.gotReply = false;
  try {
    await sig.open();
  } catch {
    return; // onSocketClose decides what to do
  }
  const join = { type: 'join', version: 1, room: app.params.room };
  if (app.params.name) join.name = app.params.name;
  if (app.params.token) join.token = app.params.token;
  if (app.params.passcode) join.passcode = app.params.passcode;
  sig.send(join);
}

function onSocketClose({ expected }) {
  closeSession();
  if (expected || app.state === 'ended' || app.state === 'idle') return;
  if (app.leaving) {
    onBye('left');
    return;
  }
  if (app.gotReply || app.retries > 0) {
    scheduleReconnect();
    return;
  }
  // The server was never reached on the first try.
  app.sig = null;
  releaseMedia();
  app.state = 'idle';
  setScreen('join');
  showJoinError('We could not reach Hearth. Please check your connection and try again.');
}

function scheduleReconnect() {
  if (app.retries >= RETRY_DELAYS_MS.length) {
    app.sig = null;
    endWith('disconnected', 'You were disconnected',
      'We lost the connection to the session and could not get it back. Please check your internet connection, then join again.');
    return;
  }
  const delay = RETRY_DELAYS_MS[app.retries];
  app.retries += 1;
  setState('reconnecting');
  // The new connection brings a fresh list of who is here.
  app.participants.clear();
  app.waitingList = [];
  render();
  app.retryTimer = window.setTimeout(connect, delay);
}

// ---------------------------------------------------------------- messages

function onMessage(msg) {
  app.received[msg.type] = (app.received[msg.type] || 0) + 1;
  switch (msg.type) {
    case 'joined': return onJoined(msg);
    case 'waiting': return onWaiting(msg);
    case 'offer':
    case 'answer':
    case 'candidate':
      if (app.session) app.session.handle(msg);
      return undefined;
    case 'participant_joined': return onParticipantJoined(msg.participant);
    case 'participant_updated': return onParticipantUpdated(msg.participant);
    case 'participant_left': return onParticipantLeft(msg.participant, msg.reason);
    case 'track_published': return onTrackPublished(msg.participant, msg.track);
    case 'track_unpublished': return onTrackUnpublished(msg.participant, msg.track);
    case 'waiting_list': return onWaitingList(msg.entries || []);
    case 'error': return onError(msg);
    case 'bye': return onBye(msg.reason);
    case 'room_updated':
      if (msg.room) app.room = { ...app.room, ...msg.room };
      return render();
    default:
      return undefined; // pong, and types from later versions
  }
}

function onJoined(msg) {
  const first = app.state !== 'reconnecting';
  app.gotReply = true;
  app.retries = 0;
  app.room = msg.room || { name: app.params.room };
  app.self = { ...msg.self, muted: { audio: app.micMuted || !app.local.audio, video: app.camMuted || !app.local.video } };
  app.participants = new Map((msg.participants || []).map((p) => [p.id, normalize(p)]));
  app.waitingList = [];

  if (app.self.role === 'observer') {
    // Observers only watch and listen; the server takes no media from them.
    releaseMedia();
    app.mediaProblems = [];
    app.self.muted = { audio: true, video: true };
    if (first) showNotice('You are here as an observer. Others cannot see or hear you.', { sticky: true });
  }

  closeSession();
  app.session = new MediaSession({
    iceServers: msg.iceServers || [],
    send: (m) => app.sig && app.sig.send(m),
    localTracks: app.local,
    onRemoteTracks: render,
    onConnectionState: (s) => {
      if (app.state === 'ended') return;
      setState(connectionStateFromPC(s));
      render();
    },
  });
  setState('connecting');
  if (app.self.role !== 'observer') {
    for (const kind of ['audio', 'video']) if (app.self.muted[kind]) sendMute(kind, true);
  }

  $('room-title').textContent = app.room.name || app.params.room;
  if (app.screen !== 'call') setScreen('call', app.local.audio ? $('mic-button') : $('leave-button'));
  else render();

  const others = app.participants.size;
  const who = others === 0 ? 'No one else is here yet.' : others === 1 ? 'One other person is here.' : `${others} other people are here.`;
  announce(first ? `You joined ${app.room.name || app.params.room}. ${who}` : `Reconnected. ${who}`);
  if (first && app.mediaProblems.length) {
    const missing = app.mediaProblems.map((p) => p.text).join(' ');
    const can = !app.local.audio && !app.local.video
      ? 'You can still see and hear the others.'
      : !app.local.video ? 'Others can hear you but not see you.' : 'Others can see you but not hear you.';
    showNotice(`${missing} ${can}`, { sticky: true });
  }
}

function normalize(p) {
  return {
    id: p.id,
    identity: p.identity,
    name: p.name,
    role: p.role,
    muted: { audio: Boolean(p.muted && p.muted.audio), video: Boolean(p.muted && p.muted.video) },
    tracks: Array.isArray(p.tracks) ? p.tracks : [],
  };
}

function onWaiting(msg) {
  app.gotReply = true;
  app.retries = 0;
  setState('waiting');
  const message = text.waitingMessage(msg.reason, msg.message);
  $('waiting-message').textContent = message;
  if (app.screen !== 'waiting') {
    setScreen('waiting');
    announce(`You are in the waiting room. ${message}`);
  }
}

function onParticipantJoined(p) {
  if (!p || !app.self || p.id === app.self.id) return;
  const known = app.participants.has(p.id);
  app.participants.set(p.id, normalize(p));
  if (!known) announce(`${p.name || 'Someone'} joined.`);
  render();
}

function onParticipantUpdated(p) {
  if (!p || !app.self) return;
  if (p.id === app.self.id) {
    // Our own mute state is what we set; the rest comes from the server.
    app.self = { ...app.self, name: p.name || app.self.name, role: p.role || app.self.role };
  } else {
    const old = app.participants.get(p.id);
    const next = normalize({ ...old, ...p });
    if (old && !p.tracks) next.tracks = old.tracks;
    app.participants.set(p.id, next);
  }
  render();
}

function onParticipantLeft(id, reason) {
  const p = app.participants.get(id);
  if (!p) return;
  app.participants.delete(id);
  announce(`${p.name || 'Someone'} ${reason === 'removed' ? 'was removed' : 'left'}.`);
  render();
}

function onTrackPublished(id, track) {
  const p = app.participants.get(id);
  if (!p || !track) return;
  p.tracks = p.tracks.filter((t) => t.id !== track.id).concat([track]);
  render();
}

function onTrackUnpublished(id, trackId) {
  const p = app.participants.get(id);
  if (!p) return;
  p.tracks = p.tracks.filter((t) => t.id !== trackId);
  render();
}

function onWaitingList(entries) {
  const before = new Set(app.waitingList.map((e) => e.id));
  app.waitingList = entries;
  if (app.self && text.isFacilitator(app.self.role)) {
    const arrived = entries.filter((e) => !before.has(e.id)).map((e) => e.name || e.identity || 'Someone');
    if (arrived.length === 1) announce(`${arrived[0]} is waiting to join.`);
    else if (arrived.length > 1) announce(`${arrived.length} people are waiting to join.`);
  }
  render();
}

function onError(msg) {
  app.lastError = { code: msg.code, message: msg.message, ref: msg.ref };
  if (text.FATAL_CODES.has(msg.code)) {
    refuse(msg.code, msg.message);
    return;
  }
  if (msg.ref === 'lock' && app.room) {
    app.room = { ...app.room, locked: !app.room.locked };
    render();
  }
  if (app.screen === 'call') showNotice(text.notice(msg.code, msg.message), { error: true });
  else console.warn('hearth: server error', msg.code, msg.message);
}

// refuse handles an error after which the server closes the socket.
function refuse(code, message) {
  app.state = 'ended';
  if (app.sig) app.sig.close();
  app.sig = null;
  closeSession();
  releaseMedia();
  if (code === 'bad_passcode') {
    app.state = 'idle';
    $('passcode-field').hidden = false;
    setScreen('join', $('passcode'));
    showJoinError(app.params && app.params.passcode
      ? 'That passcode did not work. Please check it and try again.'
      : 'This room needs a passcode.');
    return;
  }
  const [title, body] = text.refusal(code, message);
  const canRetry = !['not_on_roster', 'blocked', 'invalid_token', 'token_expired', 'wrong_room'].includes(code);
  endWith('ended', title, body, canRetry);
}

function onBye(reason) {
  const [title, body] = text.goodbye(reason);
  if (app.sig) app.sig.close();
  app.sig = null;
  endWith('ended', title, body, reason !== 'removed');
}

// endWith tears everything down and shows the ended screen.
function endWith(state, title, body, canRetry = true) {
  window.clearTimeout(app.retryTimer);
  app.state = state;
  closeSession();
  releaseMedia();
  app.participants.clear();
  app.waitingList = [];
  app.leaving = false;
  setStatus(state === 'disconnected' ? 'disconnected' : 'ended');
  $('ended-title').textContent = title;
  $('ended-message').textContent = body;
  $('rejoin-button').hidden = !canRetry;
  hideNotice();
  setScreen('ended', $('ended-title'));
  announce(`${title}. ${body}`);
}

// ---------------------------------------------------------------- actions

function send(msg) {
  return Boolean(app.sig && app.sig.send(msg));
}

function sendMute(kind, muted) {
  if (app.self) app.self.muted = { ...app.self.muted, [kind]: muted };
  send({ type: 'mute', kind, muted });
}

function toggleMic() {
  if (!app.local.audio) return;
  app.micMuted = !app.micMuted;
  app.local.audio.enabled = !app.micMuted;
  sendMute('audio', app.micMuted);
  announce(app.micMuted ? 'Microphone off.' : 'Microphone on.');
  render();
}

function toggleCam() {
  if (!app.local.video) return;
  app.camMuted = !app.camMuted;
  app.local.video.enabled = !app.camMuted;
  sendMute('video', app.camMuted);
  announce(app.camMuted ? 'Camera off.' : 'Camera on.');
  render();
}

function leave() {
  if (app.leaving) return;
  window.clearTimeout(app.retryTimer);
  if (!send({ type: 'leave' })) {
    onBye('left');
    return;
  }
  app.leaving = true;
  $('leave-button').disabled = true;
  // The server answers with bye; do not wait long for it.
  const sig = app.sig;
  window.setTimeout(() => {
    if (app.sig === sig && app.leaving) onBye('left');
  }, LEAVE_WAIT_MS);
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
};

function togglePanel(open) {
  app.panelOpen = open;
  render();
  if (open) $('panel-title').focus();
  else $('panel-button').focus();
}

function closeSession() {
  if (app.session) app.session.close();
  app.session = null;
}

function releaseMedia() {
  stopTracks(app.local.audio, app.local.video);
  app.local = { audio: null, video: null };
}

// ---------------------------------------------------------------- render

function render() {
  const inCall = app.screen === 'call';
  const joining = isJoining();
  $('join-button').disabled = joining;
  $('join-button').textContent = joining ? 'Joining…' : 'Join';
  $('rejoin-button').disabled = joining;
  $('leave-button').disabled = app.leaving;
  setToggle($('mic-button'), { kind: 'audio', muted: app.micMuted, available: Boolean(app.local.audio) });
  setToggle($('cam-button'), { kind: 'video', muted: app.camMuted, available: Boolean(app.local.video) });

  const entries = [];
  if (inCall && app.self) {
    entries.push({
      id: app.self.id,
      name: app.self.name || app.params.name,
      role: app.self.role,
      self: true,
      micOff: app.micMuted || !app.local.audio,
      camOff: app.camMuted || !app.local.video,
      videoTrack: app.local.video,
      audioTrack: null,
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
        people.push({ id, name: '', role: '', muted: { audio: false, video: false }, tracks: [] });
      }
    }
    for (const p of people) {
      const got = received.get(p.id) || {};
      const publishesAudio = p.tracks.some((t) => t.kind === 'audio') || Boolean(got.audio);
      entries.push({
        id: p.id,
        name: p.name,
        role: p.role,
        self: false,
        micOff: p.muted.audio || !publishesAudio,
        camOff: p.muted.video || !got.video,
        videoTrack: got.video || null,
        audioTrack: got.audio || null,
      });
    }
  }
  const grid = $('grid');
  renderTiles(grid, entries);
  layoutGrid(grid);
  const settled = app.state === 'connecting' || app.state === 'connected';
  $('alone-message').hidden = !(inCall && settled && app.self && app.participants.size === 0);

  const isFac = Boolean(app.self && text.isFacilitator(app.self.role));
  $('panel-button').hidden = !isFac;
  const waiting = app.waitingList.length;
  $('panel-badge').hidden = !isFac || waiting === 0;
  $('panel-badge').textContent = String(waiting);
  $('panel-button').setAttribute('aria-label', waiting ? `People, ${waiting} waiting` : 'People');
  const wide = window.matchMedia('(min-width: 900px)').matches;
  const open = isFac && (app.panelOpen === null ? wide : app.panelOpen);
  $('panel').hidden = !open;
  $('panel-button').setAttribute('aria-expanded', String(open));
  document.body.dataset.panel = open ? 'open' : 'closed';
  if (isFac) {
    if (!app.panel) app.panel = new FacilitatorPanel($('panel-sections'), facilitatorActions);
    app.panel.update({
      room: app.room,
      self: app.self,
      participants: [...app.participants.values()],
      waitingList: app.waitingList,
    });
  }
}

// watchTrack redraws when a received track starts or stops getting media,
// so that a tile shows the name instead of a frozen or black picture.
function watchTrack(track) {
  if (app.watchedTracks.has(track)) return;
  app.watchedTracks.add(track);
  track.addEventListener('mute', render);
  track.addEventListener('unmute', render);
}

// A soft ring shows who is speaking, from the sound levels in the stats.
const SPEAKING_LEVEL = 0.04;
const SPEAKING_POLL_MS = 400;

async function updateSpeaking() {
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
function resumeBlockedMedia() {
  for (const el of document.querySelectorAll('[data-blocked="true"]')) {
    delete el.dataset.blocked;
    el.play().catch(() => { el.dataset.blocked = 'true'; });
  }
}

// ---------------------------------------------------------------- test hook

function snapshot(v) {
  return v === null || v === undefined ? v : JSON.parse(JSON.stringify(v));
}

window.hearth = Object.freeze({
  get state() { return app.state; },
  get screen() { return app.screen; },
  get selfId() { return app.self ? app.self.id : null; },
  get self() { return snapshot(app.self); },
  get room() { return snapshot(app.room); },
  get participants() { return snapshot([...app.participants.values()]); },
  get waitingList() { return snapshot(app.waitingList); },
  get pc() { return app.session ? app.session.pc : null; },
  get localTracks() { return { ...app.local }; },
  get lastError() { return snapshot(app.lastError); },
  get received() { return { ...app.received }; },
  inboundStats() { return app.session ? app.session.inboundStats() : Promise.resolve([]); },
  outboundStats() { return app.session ? app.session.outboundStats() : Promise.resolve([]); },
});

// ---------------------------------------------------------------- start

function init() {
  readInvite();
  prefillJoinForm();
  $('join-form').addEventListener('submit', onJoinSubmit);
  $('room').addEventListener('input', () => {
    setFieldError('room', '');
    updateNameHint();
  });
  $('name').addEventListener('input', () => setFieldError('name', ''));
  $('mic-button').addEventListener('click', toggleMic);
  $('cam-button').addEventListener('click', toggleCam);
  $('leave-button').addEventListener('click', leave);
  $('waiting-leave-button').addEventListener('click', leave);
  $('panel-button').addEventListener('click', () => togglePanel($('panel').hidden));
  $('panel-close').addEventListener('click', () => togglePanel(false));
  $('notice-close').addEventListener('click', hideNotice);
  $('rejoin-button').addEventListener('click', () => {
    if (app.params) startJoin();
  });
  $('start-over-button').addEventListener('click', () => {
    app.state = 'idle';
    setScreen('join', $('room').value ? $('name') : $('room'));
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('panel').hidden && !window.matchMedia('(min-width: 900px)').matches) togglePanel(false);
  });
  document.addEventListener('pointerdown', resumeBlockedMedia);
  document.addEventListener('keydown', resumeBlockedMedia);
  window.addEventListener('pagehide', () => {
    if (app.sig && app.sig.isOpen) app.sig.send({ type: 'leave' });
  });
  const stage = $('grid').parentElement;
  new ResizeObserver(() => layoutGrid($('grid'))).observe(stage);
  window.matchMedia('(min-width: 900px)').addEventListener('change', render);
  window.setInterval(updateSpeaking, SPEAKING_POLL_MS);
  document.body.dataset.ready = 'true';
  render();
}

init();
