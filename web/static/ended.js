// The end of a visit: leaving, the server's goodbyes and refusals, and the
// ended screen. A wrong passcode goes back to the join form instead.

import { app, setScreen, send, clearControls, closeSession, releaseMedia } from './state.js';
import { forgetResume } from './resume.js';
import * as text from './text.js';
import { $, setStatus, announce, hideNotice, showJoinError } from './ui.js';

const LEAVE_WAIT_MS = 1500;

export function leave() {
  if (app.leaving) return;
  window.clearTimeout(app.retryTimer);
  app.resume = null;
  forgetResume();
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

// refuse handles an error after which the server closes the socket.
export function refuse(code, message) {
  app.state = 'ended';
  app.resume = null;
  forgetResume();
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

export function onBye(reason) {
  const [title, body] = text.goodbye(reason);
  // Joining again after the end is joining a new session: the waiting
  // room says so.
  app.afterEnd = reason === 'ended';
  app.resume = null;
  forgetResume();
  if (app.sig) app.sig.close();
  app.sig = null;
  endWith('ended', title, body, reason !== 'removed');
}

// endWith tears everything down and shows the ended screen.
export function endWith(state, title, body, canRetry = true) {
  window.clearTimeout(app.retryTimer);
  app.state = state;
  app.resume = null;
  app.resuming = false;
  app.socketUp = false;
  forgetResume();
  closeSession();
  releaseMedia();
  app.participants.clear();
  app.waitingList = [];
  clearControls();
  app.leaving = false;
  setStatus(state === 'disconnected' ? 'disconnected' : 'ended');
  $('ended-title').textContent = title;
  $('ended-message').textContent = body;
  $('rejoin-button').hidden = !canRetry;
  // After the end of the session, starting over is the usual way on;
  // joining again is offered, quietly, and means a new session.
  const ended = app.afterEnd;
  $('rejoin-button').textContent = ended ? 'Wait for a new session' : 'Join again';
  $('rejoin-button').className = ended ? 'btn btn-quiet' : 'btn btn-primary';
  $('start-over-button').className = ended ? 'btn btn-primary' : 'btn btn-quiet';
  $('start-over-button').parentElement.prepend(ended ? $('start-over-button') : $('rejoin-button'));
  hideNotice();
  setScreen('ended', $('ended-title'));
  announce(`${title}. ${body}`);
}
