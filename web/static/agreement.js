// The group agreement at the door (PROTOCOL.md, "The group agreement"):
// the server shows it before we enter; accepting lets the join go on,
// declining ends the visit with how to reach the facilitator.

import { app, setScreen, send } from './state.js';
import { endWith } from './ended.js';
import * as text from './text.js';
import { $, announce } from './ui.js';

// onAgreement shows the agreement (again, if its text changed meanwhile).
export function onAgreement(msg) {
  app.gotReply = true;
  app.socketUp = true;
  app.resuming = false;
  app.retries = 0;
  app.agreement = { version: msg.version, contact: msg.contact || '' };
  if (msg.room && msg.room.name) app.room = msg.room;
  const title = text.roomTitle(msg.room, app.params.room);
  const name = app.params.name ? ` as ${app.params.name}` : '';
  $('agreement-who').textContent = `You are joining ${title}${name}.`;
  $('agreement-text').textContent = msg.text || '';
  $('agreement-text').scrollTop = 0;
  $('agreement-every').textContent = msg.every === 'session'
    ? 'The group asks for this at the start of every session.'
    : 'You accept it once for this group.';
  $('agreement-contact').textContent = msg.contact
    ? `If you have questions about it, or do not want to accept it: ${msg.contact}`
    : 'If you have questions about it, please contact whoever invited you.';
  $('agreement-accept').disabled = false;
  $('agreement-decline').disabled = false;
  if (app.screen !== 'agreement') {
    $('agreement-note').textContent = '';
    setScreen('agreement');
    announce('Before you join, please read the group\'s agreement. You enter once you accept it.');
  }
}

// onAgreementChanged says that the text changed while it was read.
export function onAgreementChanged(message) {
  const words = message || 'The group agreement changed while you were reading it. Please read it again.';
  $('agreement-note').textContent = words;
  $('agreement-text').focus();
}

function answer(msg) {
  if (!app.agreement) return;
  $('agreement-accept').disabled = true;
  $('agreement-decline').disabled = true;
  if (!send(msg)) {
    $('agreement-accept').disabled = false;
    $('agreement-decline').disabled = false;
  }
}

// onAgreementDeclined ends the visit: the person has not entered, and is
// told how to reach the facilitator. The server closes the socket next.
export function onAgreementDeclined(msg) {
  app.agreement = null;
  if (app.sig) app.sig.close();
  app.sig = null;
  const contact = typeof msg.contact === 'string' ? msg.contact : '';
  endWith('ended', 'You have not joined the group', contact
    ? `You did not accept the group's agreement. To talk with the facilitator about it: ${contact}`
    : 'You did not accept the group\'s agreement. To talk with the facilitator about it, please contact whoever invited you.');
}

export function wireAgreement() {
  $('agreement-accept').addEventListener('click', () => answer({ type: 'accept_agreement', version: app.agreement && app.agreement.version }));
  $('agreement-decline').addEventListener('click', () => answer({ type: 'decline_agreement' }));
}
