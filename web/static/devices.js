// The camera and microphone: started only when needed (once seated, or
// when the person asks for a check), and the device check shown on the
// join screen, in the waiting room and from the call's Settings: a
// self-view, the choice of camera and microphone, and a level meter.
// Switching a device in a call sends the new one in place of the old.
// A camera turned off is let go (its light goes out), not just paused, and
// turned on again it is got afresh.

import { app, render, sendMute, releaseMedia } from './state.js';
import { getLocalMedia, getDevice, listDevices, stopTracks } from './media.js';
import { mediaProblem } from './text.js';
import { $, announce, showNotice } from './ui.js';

const CHOICE_KEY = 'hearth.devices';
const LEVEL_POLL_MS = 100;

let starting = null; // the promise of devices being started
let cameraTurn = 0; // bumped by each setCamera, so a late camera is let go
let meter = null; // {ctx, analyser, source, timer}

function chosen() {
  try {
    const saved = JSON.parse(localStorage.getItem(CHOICE_KEY) || '{}');
    return { audio: String(saved.audio || ''), video: String(saved.video || '') };
  } catch {
    return { audio: '', video: '' };
  }
}

function choose(kind, id) {
  const c = { ...chosen(), [kind]: id };
  try {
    localStorage.setItem(CHOICE_KEY, JSON.stringify(c));
  } catch { /* the choice lasts for this visit only */ }
}

// ensureMedia starts the microphone and camera unless we hold either; it
// never throws (what could not be had is in app.mediaProblems).
export function ensureMedia() {
  if (app.local.audio || app.local.video || app.cameraReleased) return Promise.resolve();
  if (starting) return starting;
  const gen = app.mediaGen;
  app.mediaStarting = true;
  // A camera that is off is not opened at all; the button still offers it.
  const withVideo = !app.camMuted;
  const start = getLocalMedia(chosen(), withVideo).then((m) => {
    if (starting === start) starting = null;
    app.mediaStarting = Boolean(starting);
    if (gen !== app.mediaGen) {
      // Released meanwhile (left, or went to the waiting room).
      stopTracks(m.audio, m.video);
      return;
    }
    app.local = { audio: m.audio, video: m.video };
    app.cameraReleased = !withVideo;
    app.mediaProblems = m.problems;
    for (const kind of ['audio', 'video']) watchEnded(kind, app.local[kind]);
    refreshDevices();
    render();
  });
  starting = start;
  return start;
}

// stopMedia releases the camera and microphone.
export function stopMedia() {
  starting = null;
  app.mediaStarting = false;
  stopMeter();
  releaseMedia();
  render();
}

// setCamera turns our camera on or off. Off lets the device go and sends
// nothing in its place; on gets the chosen camera again and sends it. It
// never throws: a camera that cannot be had is said in a notice.
export async function setCamera(on) {
  const turn = ++cameraTurn;
  app.camMuted = !on;
  if (!on) {
    releaseCamera();
    return;
  }
  if (app.local.video) {
    app.local.video.enabled = true;
    return;
  }
  if (!app.cameraReleased) return;
  let track;
  try {
    track = await getDevice('video', chosen().video);
  } catch (err) {
    if (turn !== cameraTurn) return;
    app.camMuted = true;
    sendMute('video', true);
    showNotice(mediaProblem('video', err), { error: true });
    render();
    return;
  }
  if (turn !== cameraTurn || !app.cameraReleased) {
    track.stop();
    return;
  }
  app.cameraReleased = false;
  app.local = { ...app.local, video: track };
  watchEnded('video', track);
  if (app.session) await app.session.setLocalTrack('video', track);
  refreshDevices();
  render();
}

function releaseCamera() {
  const old = app.local.video;
  if (!old) return;
  app.local = { ...app.local, video: null };
  app.cameraReleased = true;
  if (app.session) app.session.setLocalTrack('video', null).catch(() => {});
  old.stop();
}

function watchEnded(kind, track) {
  if (!track) return;
  track.addEventListener('ended', () => {
    if (app.local[kind] !== track || app.screen !== 'call') return;
    const device = kind === 'audio' ? 'microphone' : 'camera';
    showNotice(`Your ${device} stopped working. Others can no longer ${kind === 'audio' ? 'hear' : 'see'} you.`, { error: true });
    if (kind === 'audio') app.micMuted = true;
    else app.camMuted = true;
    sendMute(kind, true);
    render();
  });
}

// switchDevice sends another microphone or camera in place of the one in
// use, keeping it muted or not as it was.
async function switchDevice(kind, id) {
  choose(kind, id);
  const old = app.local[kind];
  // A camera that is off is let go: the choice applies when it comes on.
  if (!old) return;
  let track;
  try {
    track = await getDevice(kind, id);
  } catch (err) {
    showNotice(mediaProblem(kind, err), { error: true });
    return;
  }
  track.enabled = old.enabled;
  app.local = { ...app.local, [kind]: track };
  watchEnded(kind, track);
  if (app.session) await app.session.setLocalTrack(kind, track);
  old.stop();
  if (kind === 'audio') restartMeter();
  announce(kind === 'audio' ? 'Microphone changed.' : 'Camera changed.');
  render();
}

// refreshDevices fills the camera and microphone lists.
async function refreshDevices() {
  let devices;
  try {
    devices = await listDevices();
  } catch {
    return;
  }
  for (const kind of ['audio', 'video']) {
    const select = $(kind === 'audio' ? 'mic-select' : 'camera-select');
    const track = app.local[kind];
    const current = track ? track.getSettings().deviceId || '' : chosen()[kind];
    const list = devices[kind];
    const key = JSON.stringify(list);
    if (select.dataset.key !== key) {
      select.dataset.key = key;
      select.replaceChildren(...list.map((d, i) => {
        const o = document.createElement('option');
        o.value = d.id;
        o.textContent = d.label || `${kind === 'audio' ? 'Microphone' : 'Camera'} ${i + 1}`;
        return o;
      }));
    }
    if (current && list.some((d) => d.id === current)) select.value = current;
    const held = track || (kind === 'video' && app.cameraReleased);
    $(kind === 'audio' ? 'mic-field' : 'camera-field').hidden = list.length === 0 || !held;
  }
}

// renderDeviceCheck draws the device check where the screen wants it:
// in the join card, the waiting card, or the call's Settings dialog.
export function renderDeviceCheck() {
  const box = $('device-check');
  const slot = app.screen === 'call' ? $('devices-slot') : app.screen === 'waiting' ? $('waiting-devices') : $('join-devices');
  if (box.parentElement !== slot) slot.append(box);
  const on = Boolean(app.local.audio || app.local.video || app.cameraReleased);
  const inCall = app.screen === 'call';
  const video = $('preview-video');
  const track = app.local.video && !app.camMuted ? app.local.video : null;
  const current = video.srcObject ? video.srcObject.getVideoTracks()[0] : null;
  if (current !== track) video.srcObject = track ? new MediaStream([track]) : null;
  box.dataset.camera = String(Boolean(track));
  $('preview-off').textContent = on
    ? (app.local.video || app.cameraReleased ? 'Your camera is off.' : 'No camera is in use.')
    : 'Your camera and microphone are off.';
  const button = $('preview-button');
  button.hidden = inCall;
  button.textContent = on ? 'Turn off camera and microphone' : 'Check camera and microphone';
  button.setAttribute('aria-pressed', String(on));
  $('mic-level').hidden = !app.local.audio;
  if (!on) {
    $('mic-field').hidden = true;
    $('camera-field').hidden = true;
  }
  const visible = !box.closest('[hidden]') && (!inCall || $('devices-dialog').open);
  if (visible && app.local.audio) startMeter(app.local.audio);
  else stopMeter();
}

export function wireDeviceCheck() {
  $('preview-button').addEventListener('click', async () => {
    if (app.local.audio || app.local.video || app.cameraReleased) {
      stopMedia();
      announce('Camera and microphone off.');
      return;
    }
    if (app.screen === 'join') app.camMuted = !$('start-cam').checked;
    $('preview-status').textContent = 'Starting your camera and microphone…';
    await ensureMedia();
    const problems = app.mediaProblems.map((p) => p.text).join(' ');
    $('preview-status').textContent = problems;
    announce(problems || 'Camera and microphone on. You can see yourself, and the bar moves when you speak.');
    render();
  });
  // On the join screen, "Camera on" turns the checked camera on or off.
  $('start-cam').addEventListener('change', () => {
    if (app.screen !== 'join') return;
    app.camMuted = !$('start-cam').checked;
    if (app.local.audio || app.local.video || app.cameraReleased) setCamera(!app.camMuted).then(render);
    else render();
  });
  $('mic-select').addEventListener('change', () => switchDevice('audio', $('mic-select').value));
  $('camera-select').addEventListener('change', () => switchDevice('video', $('camera-select').value));
  $('devices-button').addEventListener('click', () => {
    $('devices-dialog').showModal();
    refreshDevices();
    render();
  });
  $('devices-close').addEventListener('click', () => $('devices-dialog').close());
  $('devices-dialog').addEventListener('close', () => {
    render();
    $('devices-button').focus();
  });
}

// The level meter: how loud the microphone is, from an analyser.
function startMeter(track) {
  if (meter && meter.track === track) return;
  stopMeter();
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  const ctx = new Ctx();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  const el = $('mic-level');
  let peak = 0;
  const timer = window.setInterval(() => {
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const x of data) sum += x * x;
    // Speech sits well below full scale: show it across the bar.
    const level = Math.min(1, Math.sqrt(sum / data.length) * 4);
    peak = Math.max(peak, level);
    el.style.setProperty('--level', String(level));
    el.setAttribute('aria-valuenow', String(Math.round(level * 100)));
    el.dataset.peak = String(peak);
  }, LEVEL_POLL_MS);
  meter = { track, ctx, source, timer };
}

function stopMeter() {
  if (!meter) return;
  window.clearInterval(meter.timer);
  meter.source.disconnect();
  meter.ctx.close().catch(() => {});
  meter = null;
  $('mic-level').style.setProperty('--level', '0');
}

function restartMeter() {
  stopMeter();
  render();
}
