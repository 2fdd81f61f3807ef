/*
 * Hearth browser client: joining, the call, the waiting room and the
 * facilitator panel. Protocol: signaling/PROTOCOL.md.
 *
 * This file starts the client: it wires the page's controls to the modules
 * below and gives automated tests their read-only view (window.hearth).
 *
 * Modules, each importing only the ones below it
 *   app.js          this file: the start, and the test hooks
 *   join.js         the join form, starting a join, rejoining after a reload
 *   call.js         the call screen drawn from the state, the control bar
 *   dialog.js       the confirmation dialog
 *   connection.js   the socket: connecting, reconnecting, the banner
 *   messages.js     what happens on each message from the server
 *   ended.js        leaving, refusals and the ended screen
 *   agreement.js    the group agreement shown before entering
 *   resume.js       the join message and getting our seat back
 *   invite.js       the invitation token and the room from the address
 *   devices.js      camera and microphone: when they start, the device check
 *   screenshare.js  sharing one's screen, and someone else's share shown large
 *   state.js        the client's state, and redrawing
 *   signaling.js    the websocket, with pings
 *   session.js      the RTCPeerConnection (negotiation, ICE, track owners)
 *   media.js        microphone and camera
 *   strip.js        the session strip above the tiles
 *   controls.js     what room_state means here: who is heard, tiles, announcements
 *   tile-menu.js    a facilitator's menu on each tile
 *   people.js       the people panel of members and observers
 *   chat.js         the messages panel: chat, kept nowhere
 *   facilitator.js  the facilitator panel, made of sections (facilitator-*.js)
 *   ui.js           drawing screens, the status line and the video grid
 *   text.js         the words shown to people
 *
 * Stable hooks for automated tests
 *
 *   body[data-screen]         "join" | "agreement" | "waiting" | "call" | "ended"
 *   Join:     #join-form, #join-room-title (the room's display name), #room,
 *             #name, #passcode (shown when needed),
 *             #start-mic, #start-cam, #join-button, #join-error
 *   Devices:  #device-check (data-camera), #preview-video, #preview-button,
 *             #mic-level (data-peak: the loudest level seen, 0 to 1),
 *             #mic-select, #camera-select; in a call #devices-button opens
 *             #devices-dialog
 *   Agreement: #agreement-screen, #agreement-who, #agreement-text (the
 *             text, scrollable), #agreement-every, #agreement-note (the
 *             text changed), #agreement-accept, #agreement-decline,
 *             #agreement-contact
 *   Waiting:  #waiting-screen (data-facilitator = "true" | "false" | "":
 *             whether a facilitator is here, "" when not said),
 *             #waiting-who, #waiting-message, #waiting-leave-button
 *   Call:     #call-screen, #room-title, #grid,
 *             tiles .tile[data-participant="<id>"][data-testid="tile"]
 *               with data-self="true" on your own tile,
 *               data-mic-off and data-cam-off = "true" | "false";
 *               data-state = "active" | "reconnecting",
 *               data-active-speaker, data-floor, data-aside,
 *               data-side-room ("true": in the side room, seen from the
 *               group, badge "With the co-facilitator"),
 *               data-enforced-mute = "true" | "false",
 *               data-hand = queue position ("0": no hand),
 *               data-turn = "current" | "next" | "";
 *             data-pip="true" on one's own small picture on a phone,
 *             .tile-menu-button (facilitators) opening #tile-menu with
 *               [role=menuitem][data-action];
 *             #mic-button, #cam-button (data-muted="true" | "false",
 *               data-mode = "normal" | "lift" | "ask" | "cancel" | "floor":
 *               a facilitator's mute is lifted, asked about, or the request
 *               cancelled by the next click; "floor": the floor or a
 *               go-around keeps us from being heard, and the click says so),
 *             #hand-button (aria-pressed), #panel-button, #leave-button,
 *             #chat-button (aria-expanded) with #chat-badge (unread count),
 *             #screen-button (aria-pressed; data-state = "idle" | "asking" |
 *               "starting" | "sharing"), #screen-self (one's own share)
 *               with #screen-self-stop, #stage[data-sharing="true"] while
 *               someone else's share is shown in #screen-stage
 *               (data-participant, data-waiting) with #screen-title,
 *               #screen-video and #screen-stop (facilitators),
 *             #status (data-state = connecting | connected | reconnecting |
 *               disconnected), #status-text, #notice + #notice-text
 *               (errors and warnings), #announcer (aria-live),
 *             #connection-banner (shown while reconnecting)
 *   Strip:    #session-info with #moment-info + #moment-text (a share
 *             just ended), #turn-info (data-mine) + #turn-text,
 *             #share-timer (m:ss left; data-phase = "" | "last" | "up"),
 *             #extend-timer-button (facilitators: one more minute),
 *             #pass-button, #end-turn-button;
 *             #requests-info, #requests-queue > li[data-request="<id>"] with
 *               button[data-action="allow" | "decline"] (facilitators);
 *             #aside-info + #aside-text, #end-aside-button;
 *             #side-room-info (data-mine: we are in it) + #side-room-text,
 *               #side-room-back-button;
 *             #facilitation-info (data-mine: the role was handed to us) +
 *               #facilitation-text, #facilitation-button (take or give
 *               the role back);
 *             #peer-info + #peer-text (a peer-led room, nobody
 *               facilitating: members), #peer-round-button (start or end
 *               a go-around), #peer-next-button, #peer-floor-button;
 *             #hands-info, #hands-queue > li[data-hand="<id>"];
 *             #self-info + #self-text (why one is not heard now)
 *   Panel:    #panel, #waiting-list > li[data-waiting="<id>"] with
 *             button[data-action="admit"] and button[data-action="deny"],
 *             #admit-all, #deny-all, #lock-button (aria-pressed),
 *             #hands-list > li[data-hand="<id>"] with
 *               button[data-action="give-floor" | "lower-hand"],
 *             #requests-list > li[data-request="<id>"] with
 *               button[data-action="allow" | "decline"],
 *             #floor-open, #floor-moderated (radios), #share-length,
 *             #give-floor-next, #set-timer, #take-floor, #panel-timer,
 *             #round-order, #turn-length, #start-round,
 *             #round-turns > li[data-turn="<id>"][data-status], #next-turn,
 *             #skip-turn, #end-round,
 *             #people-list > li[data-person="<id>"] with
 *               button[data-action="mute-audio" | "more" | "mute-video" |
 *               "give-floor" | "aside" | "remove"] (data-muted on the mutes),
 *             the tile menu's side room items: data-action="side-room"
 *               ("Take … to a side room", "Bring … back"), and the
 *               facilitator role's: data-action="facilitation",
 *             #talk-time-list > li[data-talk="<id>"],
 *             [data-section="roll"] (hidden without a list or an
 *               agreement) with #roll-summary and #roll-list >
 *               li[data-roll="<identity>"][data-state = "present" |
 *               "waiting" | "missing"][data-accepted = "true" | "false"],
 *             #mute-all, #unmute-all, #policy-self-unmute,
 *             #policy-join-muted, #policy-floor-return, #policy-share-end,
 *             #end-session-button
 *   People:   (members and observers, in #panel) #people-here >
 *               li[data-person="<id>"] with .person-name, .person-meta
 *               (role, mic, hand, floor), data-mic-off, data-hand;
 *             #write-facilitators
 *   Chat:     #chat-panel, #chat-kept (messages are not kept),
 *             #chat-everyone (facilitators: chat on for members),
 *             #chat-log > #chat-list > li[data-chat-id="<id>"] with
 *               data-private, data-mine, data-removed = "true" | "false",
 *               .chat-from, .chat-private, .chat-text, and
 *               button[data-action="remove" | "reply"]; li.chat-note;
 *             #chat-empty, #chat-off-note, #chat-nobody, #chat-to,
 *             #chat-text, #chat-send, #chat-count, #chat-error, #chat-close
 *   Dialog:   #confirm-dialog, #confirm-title, #confirm-block, #confirm-ok,
 *             #confirm-cancel
 *   Ended:    #ended-screen, #ended-title, #ended-message, #rejoin-button,
 *             #start-over-button
 *
 *   window.hearth (read only)
 *     state         "idle" | "connecting" | "waiting" | "connected" |
 *                   "reconnecting" | "disconnected" | "ended"
 *     screen        as body[data-screen]
 *     selfId, self  our participant id and record
 *     room          {name, displayName, kind, locked, ...}
 *     participants  the others: [{id, identity, name, role, muted, tracks}]
 *     waitingList   entries of the last waiting_list message
 *     pc            the RTCPeerConnection, or null
 *     localTracks   {audio, video}: MediaStreamTrack or null
 *     lastError     {code, message, ref} of the last error message
 *     received      count of messages received, by type
 *     roomState     the newest room_state (the message), or null
 *     activeSpeaker participant id from active_speaker, or null
 *     talkTime      entries of the last talk_time message
 *     roll          the last roll message (facilitators), or null
 *     chat          the messages on screen: [{id, from, name, to, text,
 *                   time, removed}] and notes [{id, note}]
 *     resumable     whether we hold a resume secret for our seat
 *     resumes       how many times the seat was resumed on a new socket
 *     iceRestarts   how many times this peer connection restarted ICE
 *     screenShare   {state, track}: our own share ("idle" | "asking" |
 *                   "starting" | "sharing") and its MediaStreamTrack
 *     layout        the tiles we last told the server we show:
 *                   [{participant, size, pinned}], or null
 *     videoLayers   by rid, whether the server last said anybody
 *                   receives that layer of our camera
 *     debugDropSocket()  closes the websocket as a network failure would
 *     inboundStats()   Promise of [{participant, kind, screen, mid,
 *                      trackIdentifier, packetsReceived, bytesReceived,
 *                      framesDecoded, frameWidth, frameHeight}], one per
 *                      inbound RTP stream,
 *                      participant from the sections messages (screen: a
 *                      screen share)
 *     outboundStats()  Promise of [{kind, mid, packetsSent, bytesSent,
 *                      framesEncoded}]
 */

import { app, setScreen, setDraw, render, send, nameOf } from './state.js';
import { answerConfirm } from './dialog.js';
import { readInvite } from './invite.js';
import { saveResume } from './resume.js';
import { leave } from './ended.js';
import {
  draw, onMediaButton, toggleHand, togglePanel, SPEAKING_POLL_MS,
  updateSpeaking, resumeBlockedMedia, onRequestButton, onGridClick,
} from './call.js';
import {
  prefillJoinForm, updateNameHint, updateRoomTitle, onJoinSubmit, startJoin, resumeAfterReload,
} from './join.js';
import { updateTimers } from './strip.js';
import { wireDeviceCheck } from './devices.js';
import { wireTileMenu } from './tile-menu.js';
import { wireChat, chatMessages } from './chat.js';
import { wireScreenShare, screenSnapshot } from './screenshare.js';
import { wireView } from './view.js';
import { wireAgreement } from './agreement.js';
import { wireLayout, layoutSnapshot, videoLayersSnapshot } from './layers.js';
import { watchHearing } from './hearing.js';
import { $, hideNotice, setFieldError, layoutGrid } from './ui.js';

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
  get roomState() { return snapshot(app.roomState); },
  get activeSpeaker() { return app.activeSpeaker; },
  get talkTime() { return snapshot(app.talkTime); },
  get roll() { return snapshot(app.roll); },
  get chat() { return chatMessages(); },
  get resumable() { return Boolean(app.resume); },
  get resumes() { return app.resumes; },
  get iceRestarts() { return app.session ? app.session.iceRestarts : 0; },
  get screenShare() { return screenSnapshot(); },
  get layout() { return layoutSnapshot(); },
  get videoLayers() { return videoLayersSnapshot(); },
  debugDropSocket() {
    if (!app.sig) return false;
    app.sig.drop();
    return true;
  },
  inboundStats() { return app.session ? app.session.inboundStats() : Promise.resolve([]); },
  outboundStats() { return app.session ? app.session.outboundStats() : Promise.resolve([]); },
});

function init() {
  setDraw(draw);
  readInvite();
  prefillJoinForm();
  $('join-form').addEventListener('submit', onJoinSubmit);
  $('room').addEventListener('input', () => {
    setFieldError('room', '');
    updateNameHint();
    updateRoomTitle();
  });
  $('name').addEventListener('input', () => setFieldError('name', ''));
  $('mic-button').addEventListener('click', () => onMediaButton('audio'));
  $('cam-button').addEventListener('click', () => onMediaButton('video'));
  $('hand-button').addEventListener('click', toggleHand);
  $('pass-button').addEventListener('click', () => send({ type: 'pass' }));
  $('end-turn-button').addEventListener('click', () => send({ type: 'end_turn' }));
  $('end-aside-button').addEventListener('click', () => send({ type: 'end_aside' }));
  $('extend-timer-button').addEventListener('click', () => send({ type: 'extend_timer', seconds: 60 }));
  $('side-room-back-button').addEventListener('click', () => send({ type: 'end_side_room' }));
  $('facilitation-button').addEventListener('click', () => send({ type: 'take_back_facilitation' }));
  $('peer-round-button').addEventListener('click', (ev) => send(ev.currentTarget.dataset.action === 'end_round'
    ? { type: 'end_round' } : { type: 'start_round', order: 'join' }));
  $('peer-next-button').addEventListener('click', () => send({ type: 'next_turn' }));
  $('peer-floor-button').addEventListener('click', () => send({ type: 'give_floor' }));
  $('requests-queue').addEventListener('click', onRequestButton);
  $('confirm-ok').addEventListener('click', () => answerConfirm(true));
  $('confirm-cancel').addEventListener('click', () => answerConfirm(false));
  $('confirm-dialog').addEventListener('close', () => answerConfirm(false));
  $('leave-button').addEventListener('click', leave);
  $('waiting-leave-button').addEventListener('click', leave);
  $('panel-button').addEventListener('click', () => togglePanel($('panel').hidden));
  $('panel-close').addEventListener('click', () => togglePanel(false));
  $('notice-close').addEventListener('click', hideNotice);
  wireDeviceCheck();
  wireTileMenu();
  wireChat();
  wireScreenShare();
  wireView();
  wireAgreement();
  wireLayout($('grid'));
  $('grid').addEventListener('click', onGridClick);
  $('rejoin-button').addEventListener('click', () => {
    if (app.params) startJoin();
  });
  $('start-over-button').addEventListener('click', () => {
    app.state = 'idle';
    app.afterEnd = false;
    updateRoomTitle();
    setScreen('join', $('room').value ? $('name') : $('room'));
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('panel').hidden && !$('confirm-dialog').open && !window.matchMedia('(min-width: 900px)').matches) togglePanel(false);
  });
  document.addEventListener('pointerdown', resumeBlockedMedia);
  document.addEventListener('keydown', resumeBlockedMedia);
  window.addEventListener('pagehide', () => {
    // With a resume secret a reload gets our seat back, so the page goes
    // without leaving: the seat waits for the server's grace period.
    if (app.resume) saveResume();
    else if (app.sig && app.sig.isOpen) app.sig.send({ type: 'leave' });
  });
  const stage = $('grid').parentElement;
  new ResizeObserver(() => layoutGrid($('grid'))).observe(stage);
  // The phone's sheet and one's own picture sit above the control bar.
  const bar = document.querySelector('.controls');
  new ResizeObserver(() => document.documentElement.style.setProperty('--controls-h', `${bar.offsetHeight}px`)).observe(bar);
  window.matchMedia('(max-width: 600px)').addEventListener('change', render);
  window.matchMedia('(min-width: 900px)').addEventListener('change', render);
  window.setInterval(updateSpeaking, SPEAKING_POLL_MS);
  watchHearing();
  window.setInterval(() => updateTimers(app.view, nameOf), 250);
  document.body.dataset.ready = 'true';
  render();
  resumeAfterReload();
}

init();
