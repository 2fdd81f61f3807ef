// Simulcast and layer choice (signaling/PROTOCOL.md, "Video layers").
//
// Our camera goes out as three layers of one source, rids q, h and f at a
// quarter, half and full resolution. The server's first offer does not ask
// for layers on the camera's m-line, so we add the rid lines to it before
// applying it (askSimulcast): the browser then answers with them and makes
// one encoding per layer, which we scale (scaleLayers). The server tells us
// which layers anybody receives (video_layers) and we pause the others.
//
// We tell the server how large we show each camera (layout): each tile's
// size class from its width in CSS pixels, sent when a class changes, so
// that it forwards no more of a camera than the tile shows.

import { app, send } from './state.js';
import { pinnedId } from './view.js';

// RIDS are our camera's layers, lowest first, with how much each scales
// the camera's picture down and the most bits a second each may take, so
// that the three together stay modest. The lowest is what a subscriber
// short of bandwidth gets of every face: at 64 kbit/s and 12 frames a
// second, eight of them and eight voices (about 50 kbit/s each with
// their headers) fit a 1 Mbit/s link with room to spare.
const RIDS = ['q', 'h', 'f'];
const SCALE = { q: 4, h: 2, f: 1 };
const MAX_BITRATE = { q: 64000, h: 400000, f: 1000000 };
const MAX_FRAMERATE = { q: 12 };

const RID_EXTENSION = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';

// Tile widths (CSS pixels) up to which a tile is small, then medium; the
// server classes widths the same way.
const SMALL_WIDTH = 360;
const MEDIUM_WIDTH = 720;

// LAYOUT_DELAY_MS lets a burst of resizes settle before a layout is sent.
const LAYOUT_DELAY_MS = 300;

// askSimulcast returns the server's offer with our camera's m-line (mid)
// asking for our layers, when the server reads rids there and does not ask
// already; otherwise the offer as it is.
export function askSimulcast(sdp, mid) {
  if (mid === null || !sdp.includes(RID_EXTENSION)) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const parts = sdp.split(/(?=^m=)/m);
  for (let i = 1; i < parts.length; i++) {
    const lines = parts[i].split(/\r?\n/);
    if (!lines[0].startsWith('m=video') || !lines.includes(`a=mid:${mid}`)) continue;
    if (!lines.includes('a=recvonly') || lines.some((l) => l.startsWith('a=rid:') || l.startsWith('a=simulcast:'))) return sdp;
    const add = RIDS.map((r) => `a=rid:${r} recv`).concat(`a=simulcast:recv ${RIDS.join(';')}`);
    parts[i] = parts[i].replace(/(\r?\n)?$/, eol) + add.join(eol) + eol;
    return parts.join('');
  }
  return sdp;
}

// Changes to a sender's parameters go one at a time: each needs the
// parameters the one before left.
let paramsQueue = Promise.resolve();

function changeParams(sender, change) {
  paramsQueue = paramsQueue
    .then(async () => {
      const p = sender.getParameters();
      if (!p.encodings || p.encodings.length < 2 || !change(p.encodings)) return;
      await sender.setParameters(p);
    })
    .catch((err) => console.warn('hearth: changing the camera layers failed:', err));
  return paramsQueue;
}

// wanted is, by rid, whether the server last said anybody receives it.
let wanted = new Map();

// scaleLayers gives each of the camera sender's layers its scale and
// bitrate, and the activity the server last asked for.
export function scaleLayers(sender) {
  if (!sender) return Promise.resolve();
  return changeParams(sender, (encodings) => {
    let changed = false;
    for (const e of encodings) {
      const scale = SCALE[e.rid];
      if (scale && e.scaleResolutionDownBy !== scale) {
        e.scaleResolutionDownBy = scale;
        e.maxBitrate = MAX_BITRATE[e.rid];
        if (MAX_FRAMERATE[e.rid]) e.maxFramerate = MAX_FRAMERATE[e.rid];
        changed = true;
      }
      if (wanted.has(e.rid) && e.active !== wanted.get(e.rid)) {
        e.active = wanted.get(e.rid);
        changed = true;
      }
    }
    return changed;
  });
}

// onVideoLayers pauses the layers of our camera that nobody receives and
// resumes the others.
export function onVideoLayers(msg) {
  if (!Array.isArray(msg.layers)) return undefined;
  wanted = new Map(msg.layers.filter((l) => typeof l.rid === 'string').map((l) => [l.rid, l.active === true]));
  return scaleLayers(app.session ? app.session.cameraSender() : null);
}

// sizeClass is a tile's size class from its width in CSS pixels.
function sizeClass(width, height) {
  if (width <= 0 || height <= 0) return 'hidden';
  if (width <= SMALL_WIDTH) return 'small';
  if (width <= MEDIUM_WIDTH) return 'medium';
  return 'large';
}

// currentLayout is the tiles of others the grid shows: [{participant,
// size, pinned}]. A tile out of the window, or a hidden page, shows
// nothing.
function currentLayout(grid) {
  const tiles = [];
  const pageHidden = document.visibilityState === 'hidden';
  for (const el of grid.querySelectorAll(':scope > .tile')) {
    if (el.dataset.self === 'true' || !el.dataset.participant) continue;
    const r = el.getBoundingClientRect();
    const inView = r.bottom > 0 && r.right > 0 && r.top < window.innerHeight && r.left < window.innerWidth;
    const size = pageHidden || !inView ? 'hidden' : sizeClass(r.width, r.height);
    const tile = { participant: el.dataset.participant, size };
    if (tile.participant === pinnedId()) tile.pinned = true;
    tiles.push(tile);
  }
  tiles.sort((a, b) => (a.participant < b.participant ? -1 : a.participant > b.participant ? 1 : 0));
  return tiles;
}

let lastSent = '';
let timer = 0;
let layoutGridEl = null;

// scheduleLayout sends our layout a moment after the tiles last changed,
// if a tile's size class changed since the last one sent.
export function scheduleLayout() {
  if (!layoutGridEl) return;
  window.clearTimeout(timer);
  timer = window.setTimeout(() => {
    timer = 0;
    if (app.screen !== 'call' || !app.self || !app.socketUp) return;
    const tiles = currentLayout(layoutGridEl);
    const key = JSON.stringify(tiles);
    if (key !== lastSent && send({ type: 'layout', tiles })) lastSent = key;
  }, LAYOUT_DELAY_MS);
}

// resetLayout forgets what was sent: a new seat starts with none, and the
// layout goes again.
export function resetLayout() {
  lastSent = '';
  wanted = new Map();
  scheduleLayout();
}

// wireLayout watches the grid's size, its tiles' and the page's
// visibility.
export function wireLayout(grid) {
  layoutGridEl = grid;
  new ResizeObserver(scheduleLayout).observe(grid);
  document.addEventListener('visibilitychange', scheduleLayout);
  window.addEventListener('scroll', scheduleLayout, { passive: true });
}

// layoutSnapshot is the layout last sent, for tests.
export function layoutSnapshot() {
  return lastSent ? JSON.parse(lastSent) : null;
}

// videoLayersSnapshot is, by rid, whether the server last said anybody
// receives that layer of our camera, for tests.
export function videoLayersSnapshot() {
  return Object.fromEntries(wanted);
}
