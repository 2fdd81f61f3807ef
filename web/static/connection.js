// The socket to the server: connecting, reconnecting with backoff after a
// drop (keeping the seat and the peer connection when we can), and the
// banner that says so.

import {
  app, setState, setScreen, render, clearControls, closeSession, releaseMedia,
} from './state.js';
import { sendJoin, sendResume } from './resume.js';
import { onBye, endWith } from './ended.js';
import { onMessage } from './messages.js';
import { Signaling, signalingURL } from './signaling.js';
import { $, showJoinError } from './ui.js';

// Reconnection backoff: these delays, then RETRY_EVERY_MS until
// RETRY_GIVE_UP_MS have passed since the connection dropped.
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
const RETRY_EVERY_MS = 5000;
const RETRY_GIVE_UP_MS = 120_000;

// connect opens a socket and sends join; used for the first attempt and for
// every reconnection. Holding a resume secret, it asks for our seat back.
export async function connect() {
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
  app.socketUp = false;
  try {
    await sig.open();
  } catch {
    return; // onSocketClose decides what to do
  }
  if (app.resume) sendResume();
  else sendJoin();
}

function onSocketClose({ expected }) {
  app.socketUp = false;
  if (expected || app.state === 'ended' || app.state === 'idle') {
    closeSession();
    return;
  }
  if (app.leaving) {
    onBye('left');
    return;
  }
  // Seated with a resume secret, the peer connection stays: media may keep
  // flowing, and the server keeps our seat for a while.
  if (!(app.resume && app.screen === 'call')) closeSession();
  if (app.gotReply || app.retries > 0 || app.resume) {
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
  if (app.retries === 0) app.droppedAt = Date.now();
  if (Date.now() - app.droppedAt > RETRY_GIVE_UP_MS) {
    app.sig = null;
    endWith('disconnected', 'You were disconnected',
      'We lost the connection to the session and could not get it back. Please check your internet connection, then join again.');
    return;
  }
  const delay = app.retries < RETRY_DELAYS_MS.length ? RETRY_DELAYS_MS[app.retries] : RETRY_EVERY_MS;
  app.retries += 1;
  setState('reconnecting');
  if (!app.resume) {
    // A fresh join brings a fresh list of who is here.
    app.participants.clear();
    clearControls();
  }
  app.waitingList = [];
  render();
  app.retryTimer = window.setTimeout(connect, delay);
}

// renderConnectionBanner says calmly that we are reconnecting, that our
// sound breaks up on its way to others or theirs on its way to us, or that
// our connection is too slow for some video, and what it means for the
// person.
export function renderConnectionBanner(inCall) {
  const banner = $('connection-banner');
  const reconnecting = inCall && app.state === 'reconnecting';
  const breaking = inCall && !reconnecting && app.sendingPoor;
  const missing = inCall && !reconnecting && app.hearingPoor;
  // The server pausing video our connection cannot carry is said once,
  // here, and on each tile it pauses.
  const slow = inCall && !reconnecting && app.pausedVideo.size > 0;
  banner.hidden = !reconnecting && !breaking && !missing && !slow;
  banner.dataset.kind = reconnecting ? 'reconnecting' : 'slow';
  if (banner.hidden) return;
  let words;
  if (breaking) {
    words = 'Others may hear you break up: your connection is losing some of your sound.';
    if (app.local.video && !app.camMuted) words += ' Turning your camera off can help.';
  } else if (missing) words = 'Some of what others say may not reach you: your connection is losing some of their sound.';
  else if (slow) words = 'Your connection is slow, so some video is paused. Sound comes first.';
  else if (app.socketUp) words = 'The connection is unsteady. Reconnecting sound and video…';
  else if (app.retries > RETRY_DELAYS_MS.length) words = 'Still trying to reconnect… Please check your internet connection. You can stay on this page.';
  else if (app.resume) words = 'Your connection dropped. Reconnecting… You keep your place in the session.';
  else words = 'Your connection dropped. Reconnecting…';
  if ($('connection-text').textContent !== words) $('connection-text').textContent = words;
}
