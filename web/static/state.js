// The client's state: one object, app, that every module reads and changes,
// and the small helpers over it (the connection state, screens, sending,
// names, tearing down the peer connection and the devices). Redrawing goes
// through render here; the drawing itself is call.js's.

import { stopTracks } from './media.js';
import { showScreen, setStatus } from './ui.js';

export const app = {
  state: 'idle',
  screen: 'join',
  params: null, // {room, name, token, passcode, startMic, startCam}
  sig: null,
  session: null,
  gotReply: false, // joined or waiting on the current socket
  retries: 0,
  retryTimer: 0,
  droppedAt: 0, // when the connection dropped, for giving up
  socketUp: false, // the current socket is open and answered join
  pcState: 'new',
  leaving: false,
  resume: null, // the secret of our seat, from the last joined
  resuming: false, // a join with resume is waiting for its answer
  lostSeat: null, // our seat's id when its resume failed, until the join after it is answered
  resumes: 0,

  self: null,
  room: null,
  participants: new Map(),
  waitingList: [],
  agreement: null, // {version, contact}: the agreement shown, not yet answered
  roll: null, // the last roll message (facilitators): expected, missing, accepted
  lastError: null,
  received: {},

  local: { audio: null, video: null },
  mediaGen: 0, // bumped when the devices are released, so a late start stops
  mediaStarting: false, // the devices are being started: the buttons work already
  mediaProblems: [],
  micMuted: false,
  camMuted: false,
  // The camera is off by the person's choice and let go (its light out);
  // turning it on gets it afresh (devices.js setCamera).
  cameraReleased: false,

  panel: null,
  panelOpen: null, // null until the person chooses; then true or false
  watchedTracks: new WeakSet(),
  invite: null, // {token, room}
  roomTitles: new Map(), // room name -> display name, as the server last said
  afterEnd: false, // the last visit ended with the session itself

  // Facilitator controls: the newest room_state and its view.
  roomState: null,
  view: null,
  acceptAnyState: true, // the first room_state after joined is taken whole
  activeSpeaker: null,
  talkTime: [],
  moment: null, // {text, until}: a timed share that just ended, said for a while
  // Videos the server pauses because our connection cannot carry them
  // (video_paused): track id -> {participant, screen}.
  pausedVideo: new Map(),
  // Much of the sound we send is lost on the way in (sending_quality).
  sendingPoor: false,
  // Much of the sound others send is lost on its way to us (hearing.js).
  hearingPoor: false,
};

export function setState(state) {
  app.state = state;
  if (state !== 'idle' && state !== 'ended') setStatus(state);
}

// updateConnectionState sets the state of a seated call from the socket and
// the peer connection: reconnecting while either is down.
export function updateConnectionState() {
  if (!['connecting', 'connected', 'reconnecting'].includes(app.state)) return;
  if (!app.socketUp) setState('reconnecting');
  else setState(connectionStateFromPC(app.pcState));
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

export function setScreen(name, focusEl) {
  app.screen = name;
  showScreen(name, focusEl);
  render();
}

// render redraws the page from app. The drawing is call.js's draw, which
// needs most of the other modules; app.js hands it over at start (setDraw),
// so that any module can redraw without importing the ones above it.
let drawPage = () => {};

export function setDraw(fn) {
  drawPage = fn;
}

export function render() {
  drawPage();
}

// isJoining reports whether a join is under way and has had no answer yet.
export function isJoining() {
  return app.state === 'connecting' && !app.gotReply && app.screen !== 'call';
}

// send sends a message on a socket that has answered our join; before
// that, the server would refuse it.
export function send(msg) {
  return Boolean(app.socketUp && app.sig && app.sig.send(msg));
}

// applyMutes makes the devices follow our own mute choices.
export function applyMutes() {
  if (app.local.audio) app.local.audio.enabled = !app.micMuted;
  if (app.local.video) app.local.video.enabled = !app.camMuted;
}

export function sendMute(kind, muted) {
  if (app.self) app.self.muted = { ...app.self.muted, [kind]: muted };
  send({ type: 'mute', kind, muted });
}

// nameOf names a participant for people: from the roster, the controls
// state, or "Someone".
export function nameOf(id) {
  if (app.self && id === app.self.id) return app.self.name || app.params.name || 'You';
  const p = app.participants.get(id);
  if (p && p.name) return p.name;
  const st = app.view && app.view.byId.get(id);
  if (st && st.name) return st.name;
  return 'Someone';
}

export function normalize(p) {
  return {
    id: p.id,
    identity: p.identity,
    name: p.name,
    role: p.role,
    muted: { audio: Boolean(p.muted && p.muted.audio), video: Boolean(p.muted && p.muted.video) },
    tracks: Array.isArray(p.tracks) ? p.tracks : [],
    state: p.state === 'reconnecting' ? 'reconnecting' : 'active',
    // Their connection loses much of the sound they send (they may break
    // up) or of what others send them (weakConnection).
    weak: p.weakConnection === true,
  };
}

export function clearControls() {
  app.roomState = null;
  app.view = null;
  app.acceptAnyState = true;
  app.activeSpeaker = null;
  app.talkTime = [];
  app.moment = null;
}

export function closeSession() {
  if (app.session) app.session.close();
  app.session = null;
  app.pcState = 'new';
  app.pausedVideo.clear();
  app.sendingPoor = false;
  app.hearingPoor = false;
}

// videoPaused says whether the server pauses id's camera (or, with
// screen, their screen share) for our connection.
export function videoPaused(id, screen = false) {
  for (const v of app.pausedVideo.values()) {
    if (v.participant === id && v.screen === screen) return true;
  }
  return false;
}

export function releaseMedia() {
  app.mediaGen += 1;
  app.mediaStarting = false;
  stopTracks(app.local.audio, app.local.video);
  app.local = { audio: null, video: null };
  app.cameraReleased = false;
}
