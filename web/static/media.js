// The local microphone and camera.

import { mediaProblem } from './text.js';

const AUDIO_BASE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
// The camera goes out in three layers (layers.js) of which each viewer
// gets the one its tile needs; browsers send all three only from about
// 960 by 540 up.
const VIDEO_BASE = { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 24, max: 30 } };

function constraints(kind, deviceId) {
  const base = kind === 'audio' ? AUDIO_BASE : VIDEO_BASE;
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
}

// getDevice gets one microphone or camera; it throws what getUserMedia
// throws.
export async function getDevice(kind, deviceId) {
  const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints(kind, deviceId) });
  return stream.getTracks()[0];
}

// listDevices returns the microphones and cameras the browser names:
// {audio: [{id, label}], video: [...]}. Labels are empty until the person
// has allowed a device once.
export async function listDevices() {
  const out = { audio: [], video: [] };
  const md = navigator.mediaDevices;
  if (!md || typeof md.enumerateDevices !== 'function') return out;
  for (const d of await md.enumerateDevices()) {
    const kind = d.kind === 'audioinput' ? 'audio' : d.kind === 'videoinput' ? 'video' : '';
    if (!kind || !d.deviceId || d.deviceId === 'default' || d.deviceId === 'communications') continue;
    out[kind].push({ id: d.deviceId, label: d.label });
  }
  return out;
}

// getLocalMedia asks for the microphone and the camera. It never throws:
// what could not be had is left null and explained in `problems`, so the
// person can still join and see and hear the others.
//
// Returns {audio, video, problems: [{kind, text}]}.
// devices names the chosen microphone and camera ({audio, video}: device
// ids, '' for the browser's default); withVideo false leaves the camera
// alone (it is off).
export async function getLocalMedia(devices = { audio: '', video: '' }, withVideo = true) {
  const AUDIO = constraints('audio', devices.audio);
  const VIDEO = withVideo ? constraints('video', devices.video) : false;
  const result = { audio: null, video: null, problems: [] };
  const md = navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== 'function') {
    const err = { name: 'Unsupported' };
    result.problems.push({ kind: 'audio', text: mediaProblem('audio', err) });
    result.problems.push({ kind: 'video', text: mediaProblem('video', err) });
    return result;
  }
  try {
    const stream = await md.getUserMedia({ audio: AUDIO, video: VIDEO });
    result.audio = stream.getAudioTracks()[0] || null;
    result.video = stream.getVideoTracks()[0] || null;
    return result;
  } catch {
    // Ask for each on its own to learn which one failed, and why.
  }
  for (const [kind, c] of [['audio', AUDIO], ['video', VIDEO]]) {
    if (!c) continue;
    try {
      const stream = await md.getUserMedia({ [kind]: c });
      result[kind] = stream.getTracks()[0] || null;
    } catch (err) {
      result.problems.push({ kind, text: mediaProblem(kind, err) });
    }
  }
  return result;
}

// stopTracks stops the given tracks, ignoring nulls.
export function stopTracks(...tracks) {
  for (const t of tracks) if (t) t.stop();
}
