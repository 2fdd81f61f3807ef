// What happens on each message from the server: onMessage dispatches by
// type to one small handler each (PROTOCOL.md has every message).

import {
  app, setState, updateConnectionState, setScreen, render, send, sendMute,
  nameOf, normalize, clearControls, closeSession, releaseMedia, applyMutes,
} from './state.js';
import { saveResume, forgetResume, onResumeFailed, seatNotice } from './resume.js';
import { refuse, onBye } from './ended.js';
import { MediaSession } from './session.js';
import { ensureMedia, stopMedia, setCamera } from './devices.js';
import { clearPending } from './facilitator.js';
import { makeView, announcements } from './controls.js';
import { onChat, onChatRemoved, onChatError, resetChat, noteMissed } from './chat.js';
import { screenChanged, onScreenError } from './screenshare.js';
import { onAgreement, onAgreementChanged, onAgreementDeclined } from './agreement.js';
import { onVideoLayers, resetLayout } from './layers.js';
import * as text from './text.js';
import { $, announce, showNotice } from './ui.js';

export function onMessage(msg) {
  app.received[msg.type] = (app.received[msg.type] || 0) + 1;
  switch (msg.type) {
    case 'joined': return onJoined(msg);
    case 'waiting': return onWaiting(msg);
    case 'offer':
    case 'answer':
    case 'candidate':
    case 'sections':
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
    case 'room_state': return onRoomState(msg);
    case 'active_speaker':
      app.activeSpeaker = typeof msg.participant === 'string' ? msg.participant : null;
      return render();
    case 'talk_time':
      app.talkTime = Array.isArray(msg.entries) ? msg.entries : [];
      return render();
    case 'chat': return onChat(msg);
    case 'chat_removed': return onChatRemoved(msg);
    case 'agreement': return onAgreement(msg);
    case 'agreement_declined': return onAgreementDeclined(msg);
    case 'roll':
      app.roll = msg;
      return render();
    case 'video_layers': return onVideoLayers(msg);
    case 'video_paused': return onVideoPaused(msg);
    case 'sending_quality':
      app.sendingPoor = msg.poor === true;
      return render();
    case 'room_updated':
      if (msg.room) app.room = { ...app.room, ...msg.room };
      showRoomTitle();
      return render();
    default:
      return undefined; // pong, and types from later versions
  }
}

function onJoined(msg) {
  const reconnecting = app.state === 'reconnecting' || app.resuming;
  // Our seat came back with our peer connection still alive: keep it.
  // (A seat back on a new peer connection, newPeer, starts a new one.)
  const kept = msg.resumed === true && msg.newPeer !== true && app.session !== null && app.self !== null && msg.self && msg.self.id === app.self.id;
  const resumed = msg.resumed === true;
  const notice = seatNotice(msg.self);
  app.gotReply = true;
  app.socketUp = true;
  app.resuming = false;
  app.retries = 0;
  app.resume = typeof msg.resume === 'string' && msg.resume ? msg.resume : null;
  app.room = msg.room || { name: app.params.room };
  const observer = msg.self && msg.self.role === 'observer';
  // The devices start now, unless they are on already; the first answer
  // waits for them.
  const media = observer ? Promise.resolve() : ensureMedia();
  app.self = { ...msg.self, muted: { audio: app.micMuted || !app.local.audio, video: app.camMuted || !app.local.video } };
  app.participants = new Map((msg.participants || []).map((p) => [p.id, normalize(p)]));
  app.waitingList = [];
  app.agreement = null;
  if (!resumed) app.roll = null;
  app.acceptAnyState = true;
  if (!resumed) clearControls();
  if (resumed) app.resumes += 1;
  // Chat is not kept: a new seat starts with no messages, and a seat
  // taken back says that what was sent meanwhile is gone.
  if (!resumed) resetChat();
  else noteMissed();
  resetLayout();
  saveResume();

  if (app.self.role === 'observer') {
    // Observers only watch and listen; the server takes no media from them.
    releaseMedia();
    app.mediaProblems = [];
    app.self.muted = { audio: true, video: true };
    if (!reconnecting && !resumed) showNotice('You are here as an observer. Others cannot see or hear you.', { sticky: true });
  }

  if (kept) {
    app.session.afterResume();
    app.pcState = app.session.pc.connectionState;
    // What we hear may have changed while the socket was down.
    send({ type: 'hearing_quality', poor: app.hearingPoor });
  } else {
    closeSession();
    app.pcState = 'new';
    const session = new MediaSession({
      iceServers: msg.iceServers || [],
      send: (m) => send(m),
      canSignal: () => app.socketUp && !app.resuming,
      localTracks: media.then(() => app.local),
      onRemoteTracks: render,
      onConnectionState: (s) => {
        if (app.session !== session || app.state === 'ended') return;
        app.pcState = s;
        updateConnectionState();
        render();
      },
    });
    app.session = session;
  }
  app.state = 'connecting';
  updateConnectionState();
  const session = app.session;
  media.then(() => {
    if (app.session !== session || observer) return;
    applyMutes();
    app.self.muted = { audio: app.micMuted || !app.local.audio, video: app.camMuted || !app.local.video };
    // After a resume, say both: a change made while the socket was down was
    // never sent.
    for (const kind of ['audio', 'video']) if (app.self.muted[kind] || resumed) sendMute(kind, app.self.muted[kind]);
    if (!reconnecting && !resumed && app.mediaProblems.length) {
      const missing = app.mediaProblems.map((p) => p.text).join(' ');
      const can = !app.local.audio && !app.local.video
        ? 'You can still see and hear the others.'
        : !app.local.video ? 'Others can hear you but not see you.' : 'Others can see you but not hear you.';
      showNotice(`${missing} ${can}`, { sticky: true });
    }
    render();
  });

  showRoomTitle();
  if (app.screen !== 'call') {
    // Focus goes to the microphone once it has started.
    setScreen('call', $('call-title'));
    media.then(() => {
      if (document.activeElement === $('call-title') && app.local.audio) $('mic-button').focus();
    });
  } else {
    render();
  }

  const others = app.participants.size;
  const who = others === 0 ? 'No one else is here yet.' : others === 1 ? 'One other person is here.' : `${others} other people are here.`;
  if (resumed) announce(`Reconnected. You kept your place. ${who}`);
  else if (notice) announce(`${notice} ${who}`);
  else if (reconnecting) announce(`Reconnected. ${who}`);
  else announce(`You joined ${text.roomTitle(app.room, app.params.room)}. ${who}`);
}

// showRoomTitle puts the room's display name in the call's header, and
// remembers it for the join screen.
function showRoomTitle() {
  const title = text.roomTitle(app.room, app.params.room);
  $('room-title').textContent = title;
  if (app.room && app.room.name) app.roomTitles.set(app.room.name, title);
}

// onRoomState keeps the newest controls state and says what changed for us.
function onRoomState(msg) {
  if (!app.self) return;
  if (!app.acceptAnyState && app.roomState && !(msg.version > app.roomState.version)) return;
  app.acceptAnyState = false;
  const prev = app.view;
  app.roomState = msg;
  // A facilitator may hand us the facilitator role for the session, and
  // take it back: our role is the one the controls say.
  const mine = (msg.participants || []).find((p) => p.id === app.self.id);
  if (mine && mine.role && mine.role !== app.self.role) app.self = { ...app.self, role: mine.role };
  app.view = makeView(msg, performance.now(), app.self.id, app.self.role, app.room);
  const said = announcements(prev, app.view, nameOf);
  said.push(...screenChanged(prev, app.view));
  // A lifted mute does not turn on a microphone we turned off ourselves.
  if (prev && prev.enforced.audio && !app.view.enforced.audio && app.micMuted && app.local.audio) {
    said.push('Your own microphone is still off. Unmute when you are ready.');
  }
  // A camera the facilitator turns off is let go as our own camera-off
  // lets it go; allowed again, it stays off until we turn it on.
  if (app.view.enforced.video && !(prev && prev.enforced.video) && !app.camMuted) {
    setCamera(false).then(render);
    sendMute('video', true);
    saveResume();
  } else if (prev && prev.enforced.video && !app.view.enforced.video && app.camMuted && app.cameraReleased) {
    said.push('Your camera is still off. Start video when you are ready.');
  }
  if (said.length) announce(said.join(' '));
  showMoment(prev, app.view);
  render();
}

// How long the end of a timed share stays in the strip.
const MOMENT_MS = 10_000;

// showMoment marks the end of a timed share in the strip for a while, so
// that nobody is cut off without a word on the screen.
function showMoment(prev, next) {
  if (!prev || !next || !next.change || next.change.kind !== 'timer_expired' || !prev.holder) return;
  const who = prev.holder;
  let words;
  if (next.holder === who && next.timer) {
    // The speaker may finish: nothing moves until a facilitator does.
    if (who === next.selfId) words = 'Your time is up. Take a moment to finish.';
    else if (next.isFac) words = `Time is up for ${nameOf(who)}. When they have finished, move on or add a minute.`;
    else words = `Time is up for ${nameOf(who)}. They can finish what they are saying.`;
  } else if (who === next.selfId) words = 'Your time is up. Thank you for sharing.';
  else words = `Time is up for ${nameOf(who)}.`;
  if (next.holder === who) {
    // The speaker may finish: the floor did not move.
  } else if (next.round && next.round.current) {
    words += next.round.current === next.selfId ? " It's your turn now." : ` ${nameOf(next.round.current)} is next.`;
  } else if (next.holder) {
    words += next.holder === next.selfId ? ' You have the floor now.' : ` ${nameOf(next.holder)} has the floor now.`;
  } else if (next.isFac) {
    words += ' The floor is back with the facilitators.';
  }
  app.moment = { text: words, until: performance.now() + MOMENT_MS };
  window.setTimeout(render, MOMENT_MS + 50);
}

function onWaiting(msg) {
  const present = typeof msg.facilitatorPresent === 'boolean' ? msg.facilitatorPresent : undefined;
  if (app.state === 'waiting' && app.screen === 'waiting') {
    // Told again: whether a facilitator is here changed.
    const before = $('waiting-message').textContent;
    const message = text.waitingMessage(msg.reason, app.afterEnd, present);
    $('waiting-message').textContent = message;
    $('waiting-screen').dataset.facilitator = present === undefined ? '' : String(present);
    if (message !== before) announce(message);
    return;
  }
  app.gotReply = true;
  app.socketUp = true;
  app.resuming = false;
  app.retries = 0;
  app.resume = null;
  forgetResume();
  closeSession();
  clearControls();
  // Nobody sees or hears a waiting person: the devices are off unless the
  // person turns them on here.
  stopMedia();
  setState('waiting');
  if (msg.room && msg.room.name) app.room = msg.room;
  const message = text.waitingMessage(msg.reason, app.afterEnd, present);
  const notice = seatNotice(null);
  $('waiting-message').textContent = message;
  $('waiting-screen').dataset.facilitator = present === undefined ? '' : String(present);
  const name = app.params.name || 'the name on your invitation';
  const title = text.roomTitle(msg.room, app.params.room);
  if (msg.room && msg.room.name) app.roomTitles.set(msg.room.name, title);
  $('waiting-who').textContent = `You are joining ${title} as ${name}.`;
  if (app.screen !== 'waiting') {
    setScreen('waiting');
    announce(`${notice ? `${notice} ` : ''}You are in the waiting room. ${message}`);
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
    if (old && !p.state) next.state = old.state;
    app.participants.set(p.id, next);
    if (old && old.state !== next.state) {
      announce(next.state === 'reconnecting'
        ? `${next.name || 'Someone'} lost their connection and is reconnecting.`
        : `${next.name || 'Someone'} is back.`);
    }
  }
  render();
}

function onParticipantLeft(id, reason) {
  for (const [track, v] of app.pausedVideo) {
    if (v.participant === id) app.pausedVideo.delete(track);
  }
  const p = app.participants.get(id);
  if (!p) return;
  app.participants.delete(id);
  announce(`${p.name || 'Someone'} ${text.leftPhrase(reason)}.`);
  render();
}

function onTrackPublished(id, track) {
  const p = app.participants.get(id);
  if (!p || !track) return;
  p.tracks = p.tracks.filter((t) => t.id !== track.id).concat([track]);
  render();
}

// onVideoPaused notes a video the server pauses for our connection, or
// lets through again.
function onVideoPaused(msg) {
  if (typeof msg.track !== 'string' || typeof msg.participant !== 'string') return;
  if (msg.paused) app.pausedVideo.set(msg.track, { participant: msg.participant, screen: Boolean(msg.screen) });
  else app.pausedVideo.delete(msg.track);
  render();
}

function onTrackUnpublished(id, trackId) {
  app.pausedVideo.delete(trackId);
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
  if (msg.code === 'resume_failed') {
    onResumeFailed();
    return;
  }
  // Refusals close the socket only in answer to join (or to no message);
  // answering a command, they leave our seat alone.
  if (msg.code === 'agreement_changed') {
    onAgreementChanged(msg.message);
    return;
  }
  if (text.FATAL_CODES.has(msg.code) && (!msg.ref || msg.ref === 'join' || msg.ref === 'accept_agreement')) {
    refuse(msg.code, msg.message);
    return;
  }
  if ((msg.ref === 'chat' || msg.ref === 'remove_chat') && app.screen === 'call') {
    onChatError(msg.code, msg.message);
    return;
  }
  if (app.screen === 'call' && onScreenError(msg)) return;
  if (msg.ref === 'lock' && app.room) {
    app.room = { ...app.room, locked: !app.room.locked };
    render();
  }
  if (text.CONTROL_REFS.has(msg.ref)) {
    clearPending();
    render();
  }
  if (app.screen === 'call') showNotice(text.notice(msg.code, msg.message, msg.ref), { error: true });
  else console.warn('hearth: server error', msg.code, msg.message);
}
