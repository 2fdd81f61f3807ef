// Screen sharing (PROTOCOL.md, "Screen sharing"): the Share screen button,
// asking the browser for a screen, publishing it once the server names us
// the one sharing, and stopping it from our button, from the browser's own
// "stop sharing" bar, or when someone else ended it; the share shown large
// with everyone's faces still in a strip below it.
//
// Nothing leaves the browser before the server agreed: the screen is
// asked for first (the browser needs the click for that), then
// start_screen_share is sent, and the track is put on the connection only
// when room_state names us. The server forwards a screen only while its
// room_state says so, whatever a client does.

import { app, send, render, nameOf, videoPaused } from './state.js';
import { isFacilitator } from './text.js';
import { $, announce, showNotice } from './ui.js';

// What this browser shares: its track, the tab's sound if the person chose
// to share it, and the peer connection they went out on; state is 'idle',
// 'asking' (the browser's picker is open), 'starting' (start_screen_share
// sent) or 'sharing'.
const own = { state: 'idle', track: null, sound: null, session: null };
// Who was sharing at the last room_state, to say when it changes.
let lastSharer = '';

// supported reports whether this browser can share a screen (phones
// cannot).
function supported() {
  const md = navigator.mediaDevices;
  return Boolean(md && typeof md.getDisplayMedia === 'function');
}

function sharerNow() {
  const share = app.roomState && app.roomState.screenShare;
  return (share && share.participant) || '';
}

function selfId() {
  return app.self ? app.self.id : '';
}

// busySentence says why one cannot share while someone else does.
function busySentence(who) {
  const rest = app.self && isFacilitator(app.self.role)
    ? 'One screen is shared at a time: stop their share first, then share yours.'
    : 'One screen is shared at a time; you can share when they stop.';
  return `${nameOf(who)} is sharing their screen. ${rest}`;
}

// onScreenButton shares our screen, or stops our share.
export async function onScreenButton() {
  if (own.state !== 'idle') {
    stopOwnShare();
    announce('You stopped sharing your screen.');
    return;
  }
  const who = sharerNow();
  if (who && who !== selfId()) {
    showNotice(busySentence(who));
    announce(busySentence(who));
    return;
  }
  own.state = 'asking';
  render();
  let track = null;
  let sound = null;
  try {
    // The browser offers the tab's sound when it can; the whole
    // computer's would carry the session back to everyone.
    const stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15, max: 15 } }, audio: true, systemAudio: 'exclude',
    });
    track = stream.getVideoTracks()[0] || null;
    sound = stream.getAudioTracks()[0] || null;
  } catch (err) {
    own.state = 'idle';
    // Cancelling the browser's picker is a choice, not a problem.
    if (!err || err.name !== 'NotAllowedError') showNotice('Your screen could not be shared. You can try again.', { error: true });
    render();
    return;
  }
  if (!track || own.state !== 'asking' || !app.session || !send({ type: 'start_screen_share' })) {
    if (track) track.stop();
    if (sound) sound.stop();
    own.state = 'idle';
    render();
    return;
  }
  // Slides and text stay sharp rather than smooth.
  if ('contentHint' in track) track.contentHint = 'detail';
  track.addEventListener('ended', onBrowserStop);
  Object.assign(own, { state: 'starting', track, sound, session: app.session });
  render();
}

// onBrowserStop: the browser's own "stop sharing" bar ended the capture.
function onBrowserStop() {
  if (own.state === 'idle') return;
  stopOwnShare();
  announce('You stopped sharing your screen.');
  render();
}

// stopOwnShare ends our share for everyone.
function stopOwnShare() {
  if (own.state === 'starting' || own.state === 'sharing') send({ type: 'stop_screen_share' });
  endOwn();
}

// endOwn stops our capture and takes it off the connection; the server is
// not told (it ended the share, or will).
// A picker still open then finds the state changed and drops its screen.
function endOwn() {
  const { track, sound, session } = own;
  Object.assign(own, { state: 'idle', track: null, sound: null, session: null });
  if (track) {
    track.removeEventListener('ended', onBrowserStop);
    track.stop();
  }
  if (sound) sound.stop();
  if (session && session === app.session) session.setScreenTrack(null, null).catch(() => {});
}

// onScreenError takes an error answering start_screen_share or
// stop_screen_share; it reports whether it was one.
export function onScreenError(msg) {
  if (msg.ref !== 'start_screen_share' && msg.ref !== 'stop_screen_share' && msg.ref !== 'allow_screen_share') return false;
  if (msg.ref === 'start_screen_share' && own.state === 'starting') endOwn();
  // The server's sentences about sharing say plainly what happened.
  showNotice(msg.message || 'That did not work.', { error: true });
  render();
  return true;
}

// screenChanged follows a new room_state: our share starts or ends with
// it, and it returns what to announce. prev and next are views
// (controls.js).
export function screenChanged(prev, next) {
  const me = selfId();
  const sharer = sharerNow();
  const change = next && next.change;
  const out = [];
  if (own.state === 'starting' && sharer === me) {
    own.state = 'sharing';
    if (own.session === app.session) app.session.setScreenTrack(own.track, own.sound).catch(() => {});
  } else if (own.state === 'sharing' && sharer !== me) {
    endOwn();
  }
  if (sharer !== lastSharer) {
    if (lastSharer === me && me) {
      if (change && change.by && change.by !== me) {
        out.push('A facilitator stopped your screen share.');
        showNotice('A facilitator stopped your screen share.');
      }
    } else if (lastSharer && !sharer) {
      out.push(`${nameOf(lastSharer)} stopped sharing their screen.`);
    }
    if (sharer === me) out.push('You are sharing your screen. Everyone in the session can see it.');
    else if (sharer) out.push(`${nameOf(sharer)} is sharing their screen.`);
  }
  lastSharer = sharer;
  const may = (v) => Boolean(v && v.me && v.me.canShareScreen);
  if (prev && next && next.me && next.me.role === 'member' && may(prev) !== may(next)) {
    out.push(may(next) ? 'A facilitator allowed you to share your screen.' : 'You can no longer share your screen.');
  }
  return out;
}

// renderScreenShare draws the Share screen button, our own share's banner
// and someone else's share, large, above the faces. It runs before the
// grid is laid out.
export function renderScreenShare(inCall) {
  // A share lives on one peer connection: when it is gone, so is the
  // share (the server ended it with it).
  if (own.track && own.session !== app.session) endOwn();
  const me = selfId();
  const sharer = inCall ? sharerNow() : '';
  const mine = own.state !== 'idle';

  const button = $('screen-button');
  const may = Boolean(app.view && app.view.me && app.view.me.canShareScreen);
  button.hidden = !(inCall && supported() && (may || mine));
  button.setAttribute('aria-pressed', String(mine));
  button.dataset.state = own.state;
  const label = mine ? 'Stop sharing' : 'Share screen';
  const labelEl = button.querySelector('.ctrl-label');
  if (labelEl.textContent !== label) labelEl.textContent = label;
  button.setAttribute('aria-label', mine ? 'Stop sharing your screen' : 'Share your screen');

  $('screen-self').hidden = !(inCall && (own.state === 'sharing' || own.state === 'starting'));
  $('screen-self-text').textContent = own.state === 'starting'
    ? 'Starting to share your screen…'
    : 'You are sharing your screen. Everyone in the session can see it.';

  const showing = Boolean(sharer) && sharer !== me;
  const stage = $('screen-stage');
  stage.hidden = !showing;
  $('stage').dataset.sharing = String(showing);
  stage.dataset.participant = showing ? sharer : '';
  const video = $('screen-video');
  const audio = $('screen-audio');
  if (!showing) {
    if (video.srcObject) video.srcObject = null;
    if (audio.srcObject) audio.srcObject = null;
    return;
  }
  const name = nameOf(sharer);
  const title = videoPaused(sharer, true)
    ? `${name} is sharing their screen (paused: your connection is slow)`
    : `${name} is sharing their screen`;
  if ($('screen-title').textContent !== title) $('screen-title').textContent = title;
  video.setAttribute('aria-label', `${name}'s screen`);
  const tracks = app.session ? app.session.remoteTracks().filter((r) => r.participant === sharer) : [];
  const received = tracks.find((r) => r.kind === 'screen');
  const track = received ? received.track : null;
  playOn(video, track);
  const heard = tracks.find((r) => r.kind === 'screen-audio');
  playOn(audio, heard ? heard.track : null);
  stage.dataset.waiting = String(!track || video.videoWidth === 0);
  const stop = $('screen-stop');
  const fac = Boolean(app.self && isFacilitator(app.self.role));
  stop.hidden = !fac;
  const stopLabel = `Stop ${name}'s screen share`;
  if (stop.textContent !== stopLabel) stop.textContent = stopLabel;
}

// playOn shows or plays track (or nothing) in the media element el.
function playOn(el, track) {
  const current = el.srcObject ? el.srcObject.getTracks()[0] : null;
  if (current === track) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) el.play().catch(() => { el.dataset.blocked = 'true'; });
}

// wireScreenShare connects the page's screen sharing controls.
export function wireScreenShare() {
  $('screen-button').addEventListener('click', onScreenButton);
  $('screen-self-stop').addEventListener('click', () => {
    if (own.state === 'idle') return;
    stopOwnShare();
    announce('You stopped sharing your screen.');
    render();
  });
  $('screen-stop').addEventListener('click', () => {
    const who = $('screen-stage').dataset.participant;
    if (who) send({ type: 'stop_screen_share', participant: who });
  });
  // Pictures arrive after the track: redraw to drop "waiting".
  $('screen-video').addEventListener('loadeddata', render);
  $('screen-video').addEventListener('resize', render);
}

// screenSnapshot is what the test hooks show of our own share.
export function screenSnapshot() {
  return { state: own.state, track: own.track, sound: own.sound };
}
