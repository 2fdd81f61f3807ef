// Our seat: the join message (with the resume secret when we hold one, to
// get our seat back), the secret kept for a reload of this tab, and what
// happens when the server no longer has the seat.

import { app, render, clearControls, closeSession } from './state.js';
import { roomFromLocation } from './invite.js';
import { announce } from './ui.js';

const RESUME_KEY = 'hearth.resume';
// A saved seat is tried again after a reload only this soon after the page
// went away; the server's grace period is shorter still.
const RESUME_MAX_AGE_MS = 60_000;

export function sendJoin() {
  app.resuming = false;
  const join = { type: 'join', version: 1, room: app.params.room };
  if (app.params.name) join.name = app.params.name;
  if (app.params.token) join.token = app.params.token;
  if (app.params.passcode) join.passcode = app.params.passcode;
  if (app.sig) app.sig.send(join);
}

// sendResume asks for our seat back. Without a live peer connection (a
// reload) the server makes a new one.
export function sendResume() {
  app.resuming = true;
  const join = { type: 'join', version: 1, room: app.params.room, resume: app.resume };
  if (!app.session) join.newPeer = true;
  if (app.sig) app.sig.send(join);
}

// saveResume keeps what a reload needs to get our seat back, for this tab.
export function saveResume() {
  if (!app.resume || !app.params) return;
  try {
    sessionStorage.setItem(RESUME_KEY, JSON.stringify({
      room: app.params.room,
      secret: app.resume,
      name: app.params.name,
      micMuted: app.micMuted,
      camMuted: app.camMuted,
      at: Date.now(),
    }));
  } catch { /* storage may be off; a reload then joins afresh */ }
}

export function forgetResume() {
  try {
    sessionStorage.removeItem(RESUME_KEY);
  } catch { /* ignore */ }
}

// savedResume returns the seat saved for the room of this page, if it was
// saved a moment ago and this page is a reload (a duplicated tab, which
// copies sessionStorage, must not take the seat of the tab it came from).
export function savedResume() {
  const nav = performance.getEntriesByType('navigation')[0];
  if (!nav || nav.type !== 'reload') return null;
  try {
    const saved = JSON.parse(sessionStorage.getItem(RESUME_KEY) || 'null');
    if (!saved || !saved.secret || saved.room !== roomFromLocation()) return null;
    if (!(Date.now() - saved.at < RESUME_MAX_AGE_MS)) return null;
    return saved;
  } catch {
    return null;
  }
}

// onResumeFailed: the server has no seat for our secret. The socket stays
// open; we join afresh on it, which may give our seat back (the session
// moved to another server, which knows us by our invitation) or mean the
// waiting room. What is said waits for the answer (seatNotice).
export function onResumeFailed() {
  app.lostSeat = app.self ? app.self.id : null;
  app.resume = null;
  app.resuming = false;
  forgetResume();
  closeSession();
  app.participants.clear();
  app.waitingList = [];
  clearControls();
  render();
  sendJoin();
}

// seatNotice says, answering the join after a failed resume, whether we
// have our seat back (self is joined's, or null when we wait), or ''.
export function seatNotice(self) {
  const lost = app.lostSeat;
  app.lostSeat = null;
  if (!lost) return '';
  if (!self) return 'You were away too long to keep your place.';
  if (self.id === lost) return 'Reconnected. You kept your place.';
  return 'You were away too long to keep your place, so you joined again.';
}
