// Joining: the join form and its checks, starting a join (devices, then
// the socket), and taking our seat back after a reload.

import { app, setState, setScreen, render, isJoining, applyMutes } from './state.js';
import { roomFromLocation, currentToken } from './invite.js';
import { savedResume } from './resume.js';
import { connect } from './connection.js';
import { roomTitle } from './text.js';
import { $, hideNotice, showJoinError, setFieldError } from './ui.js';

const ROOM_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_KEY = 'hearth.name';

export function prefillJoinForm() {
  const room = roomFromLocation() || (app.invite && app.invite.room) || '';
  $('room').value = room;
  let name = '';
  try {
    name = localStorage.getItem(NAME_KEY) || '';
  } catch { /* ignore */ }
  $('name').value = name;
  updateNameHint();
  updateRoomTitle();
}

// updateRoomTitle shows, above the form, the display name of the room
// named in it: the one the server gave in this tab, or one made from the
// name.
export function updateRoomTitle() {
  const room = $('room').value.trim();
  const el = $('join-room-title');
  el.hidden = !ROOM_PATTERN.test(room);
  el.textContent = el.hidden ? '' : (app.roomTitles.get(room) || roomTitle(null, room));
}

export function updateNameHint() {
  const hasToken = Boolean(currentToken($('room').value.trim()));
  $('name-optional').hidden = !hasToken;
  $('name').required = !hasToken;
  $('name-hint').textContent = hasToken
    ? 'Your invitation already says who you are. You can add the name you would like to be called.'
    : 'This is how others will see you. A first name is enough.';
}

export function onJoinSubmit(ev) {
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
  app.afterEnd = false;
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

export async function startJoin() {
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
    // The devices start once we are seated (messages.js), or are already
    // on for the check on this screen.
    app.micMuted = !app.params.startMic;
    app.camMuted = !app.params.startCam;
    applyMutes();
    await connect();
  } catch (err) {
    console.warn('hearth: joining failed:', err);
    app.state = 'idle';
    setScreen('join');
    showJoinError('Something went wrong while joining. Please try again.');
  }
}


// resumeAfterReload gets our seat back when this tab was in the session a
// moment ago (the page was reloaded): the same resume, with a new peer
// connection.
export function resumeAfterReload() {
  const saved = savedResume();
  if (!saved) return;
  app.resume = saved.secret;
  app.params = {
    room: saved.room,
    name: saved.name || '',
    token: currentToken(saved.room),
    passcode: '',
    startMic: !saved.micMuted,
    startCam: !saved.camMuted,
  };
  startJoin();
}
