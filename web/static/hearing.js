// Whether the sound others send reaches us: the server says when ours
// breaks up on its way (sending_quality), but only we can tell how much of
// theirs is lost on the way to us. Every few seconds the browser's own
// counts of the audio it receives are read; over the last few readings, a
// tenth or more of the packets lost says so (app.hearingPoor), and under
// 4 % it is over, and the server is told either way (hearing_quality).
// Too few packets (everyone quiet or muted) say nothing.

import { app, render, send } from './state.js';

const POLL_MS = 2000;
const WINDOW = 3; // readings: about 6 s
const POOR = 0.1;
const GOOD = 0.04;
const MIN_PACKETS = 100;

let readings = []; // [{session, received, lost}], newest last
let busy = false;

// watchHearing starts reading the counts; once, at start-up.
export function watchHearing() {
  window.setInterval(readHearing, POLL_MS);
}

async function readHearing() {
  const session = app.session;
  if (busy) return;
  if (!session || !session.pc || app.state !== 'connected') {
    // What was missed while reconnecting is not the connection's
    // steady state: counting starts again once connected.
    if (!session) forget();
    else readings = [];
    return;
  }
  busy = true;
  try {
    const report = await session.pc.getStats();
    let received = 0;
    let lost = 0;
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp' || (s.kind || s.mediaType) !== 'audio') return;
      received += s.packetsReceived || 0;
      lost += Math.max(0, s.packetsLost || 0);
    });
    if (readings.length && readings[readings.length - 1].session !== session) readings = [];
    readings.push({ session, received, lost });
    if (readings.length > WINDOW + 1) readings.shift();
    judge();
  } catch {
    // A connection closing under us says nothing.
  } finally {
    busy = false;
  }
}

function judge() {
  if (readings.length < WINDOW + 1) return;
  const first = readings[0];
  const last = readings[readings.length - 1];
  const lost = last.lost - first.lost;
  const total = last.received - first.received + lost;
  if (total < MIN_PACKETS) return;
  const share = lost / total;
  const poor = app.hearingPoor ? share >= GOOD : share >= POOR;
  if (poor !== app.hearingPoor) {
    app.hearingPoor = poor;
    // The others are told our connection is weak, or no longer.
    send({ type: 'hearing_quality', poor });
    render();
  }
}

function forget() {
  readings = [];
  if (app.hearingPoor) {
    app.hearingPoor = false;
    render();
  }
}
