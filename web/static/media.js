// The local microphone and camera.

import { mediaProblem } from './text.js';

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
// Modest video keeps a group call smooth on ordinary connections.
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };

// getLocalMedia asks for the microphone and the camera. It never throws:
// what could not be had is left null and explained in `problems`, so the
// person can still join and see and hear the others.
//
// Returns {audio, video, problems: [{kind, text}]}.
export async function getLocalMedia() {
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
  for (const [kind, constraints] of [['audio', AUDIO], ['video', VIDEO]]) {
    try {
      const stream = await md.getUserMedia({ [kind]: constraints });
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
