// Drawing the page: screens, the status line, messages and the video grid.
// Nothing here talks to the server; the modules that use it decide what to show.

import { STATUS_TEXT, roleLabel, ordinal } from './text.js';

export const $ = (id) => document.getElementById(id);

const SCREENS = ['join', 'agreement', 'waiting', 'call', 'ended'];

// showScreen shows one of the screens and moves focus to its heading (or
// the given element), so keyboard and screen reader users land in the right
// place.
export function showScreen(name, focusEl) {
  for (const s of SCREENS) $(`${s}-screen`).hidden = s !== name;
  document.body.dataset.screen = name;
  const target = focusEl || $(`${name}-screen`).querySelector('h1[tabindex]');
  if (target) target.focus({ preventScroll: true });
}

// setStatus shows the connection state in the status line.
export function setStatus(state, detail) {
  const el = $('status');
  el.dataset.state = state;
  $('status-text').textContent = detail || STATUS_TEXT[state] || state;
  $('waiting-status').textContent = state === 'reconnecting' ? STATUS_TEXT.reconnecting : '';
}

let announceTimer = 0;
let announcePending = '';

// announce says something to screen readers through the live region.
// Sentences announced within a moment of each other are read together.
export function announce(text) {
  if (!text) return;
  const el = $('announcer');
  window.clearTimeout(announceTimer);
  announcePending = announcePending ? `${announcePending} ${text}` : text;
  el.textContent = '';
  // A short gap makes the same words be read again.
  announceTimer = window.setTimeout(() => {
    el.textContent = announcePending;
    announcePending = '';
  }, 60);
}

let noticeTimer = 0;

// showNotice shows a message above the controls. Errors stay until
// dismissed; other notices fade after a while.
export function showNotice(text, { error = false, sticky = error } = {}) {
  const el = $('notice');
  el.dataset.kind = error ? 'error' : 'info';
  $('notice-text').textContent = text;
  el.hidden = false;
  window.clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = window.setTimeout(hideNotice, 12_000);
}

export function hideNotice() {
  window.clearTimeout(noticeTimer);
  $('notice').hidden = true;
}

// showJoinError shows a problem under the join form.
export function showJoinError(text) {
  const el = $('join-error');
  el.textContent = text || '';
  el.hidden = !text;
}

export function setFieldError(field, text) {
  const err = $(`${field}-error`);
  const input = $(field);
  err.textContent = text || '';
  err.hidden = !text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

// setToggle sets a mic or camera button: muted or not, whether there is a
// device at all, and its mode when a facilitator's mute holds it: "lift"
// (we may lift it ourselves), "ask" (ask the facilitator) or "cancel" (we
// asked; the next click takes the request back); or "floor" (the floor or
// a go-around keeps us from being heard; why says so).
export function setToggle(button, { muted, available, kind, mode = 'normal', why = '' }) {
  const device = kind === 'audio' ? 'microphone' : 'camera';
  const enforced = available && mode !== 'normal';
  button.dataset.muted = String(muted || !available || enforced);
  button.dataset.mode = available ? mode : 'normal';
  button.disabled = !available;
  const label = button.querySelector('.ctrl-label');
  let text;
  let aria;
  if (!available) {
    text = kind === 'audio' ? 'No mic' : 'No camera';
    aria = `No ${device} available`;
  } else if (mode === 'floor') {
    text = 'Not heard now';
    aria = why || "You can't be heard right now";
  } else if (mode === 'ask') {
    text = kind === 'audio' ? 'Ask to speak' : 'Ask for video';
    aria = kind === 'audio'
      ? 'Your microphone is muted by the facilitator. Ask to speak'
      : 'Your camera is turned off by the facilitator. Ask to turn it on';
  } else if (mode === 'cancel') {
    text = 'Cancel ask';
    aria = kind === 'audio' ? 'You asked to speak. Cancel the request' : 'You asked to turn on your camera. Cancel the request';
  } else if (mode === 'lift') {
    text = kind === 'audio' ? 'Unmute' : 'Start video';
    aria = kind === 'audio' ? 'Muted by the facilitator. Unmute microphone' : 'Camera off by the facilitator. Turn camera on';
  } else if (kind === 'audio') {
    text = muted ? 'Unmute' : 'Mute';
    aria = muted ? 'Unmute microphone' : 'Mute microphone';
  } else {
    text = muted ? 'Start video' : 'Stop video';
    aria = muted ? 'Turn camera on' : 'Turn camera off';
  }
  if (label.textContent !== text) label.textContent = text;
  button.setAttribute('aria-label', aria);
}

// initials returns one or two letters for a name: "Ann Lee" -> "AL".
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = (w) => Array.from(w)[0] || '';
  const s = words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
  return s.toUpperCase();
}

// hue picks one of a few calm avatar colours from a participant id.
function hue(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 5;
}

// renderTiles makes the grid show exactly the given tiles, in order, reusing
// existing elements. Each entry:
//   {id, name, role, self, micOff, camOff, videoTrack, audioTrack,
//    videoPaused (the server pauses the camera for our connection),
//    weak (much of the sound they send is lost: they may break up),
//    away (reconnecting), speaking (the server's active speaker),
//    menu (a facilitator's menu for this person), pip (one's own small
//    picture in the corner of a phone),
//    facts: {hand, floor, turn, aside, sideRoom (a label, or ''),
//    enforcedAudio, enforcedVideo}}
export function renderTiles(grid, entries) {
  const existing = new Map();
  for (const el of grid.querySelectorAll(':scope > .tile')) existing.set(el.dataset.participant, el);
  const template = $('tile-template');
  let prev = null;
  for (const e of entries) {
    let tile = existing.get(e.id);
    if (tile) {
      existing.delete(e.id);
    } else {
      tile = template.content.firstElementChild.cloneNode(true);
      tile.dataset.participant = e.id;
      tile.dataset.testid = 'tile';
      tile.querySelector('.tile-avatar').classList.add(`hue-${hue(e.id)}`);
    }
    updateTile(tile, e);
    const want = prev ? prev.nextElementSibling : grid.firstElementChild;
    if (want !== tile) grid.insertBefore(tile, want);
    prev = tile;
  }
  for (const el of existing.values()) {
    detach(el);
    el.remove();
  }
  grid.dataset.count = String(entries.length);
}

function updateTile(tile, e) {
  if (e.self) tile.dataset.self = 'true';
  tile.dataset.pip = String(Boolean(e.pip));
  // One's own small picture on a phone has room for "You" only.
  const name = e.self ? (e.pip ? 'You' : `${e.name || 'You'} (you)`) : e.name || 'Guest';
  tile.querySelector('.tile-name').textContent = name;
  tile.querySelector('.tile-initials').textContent = initials(e.name);
  const role = roleLabel(e.role);
  const roleEl = tile.querySelector('.tile-role');
  roleEl.textContent = role;
  roleEl.hidden = !role;
  tile.querySelector('.tile-mic').hidden = !e.micOff;
  tile.dataset.micOff = String(Boolean(e.micOff));
  const facts = e.facts || {};
  tile.dataset.state = e.away ? 'reconnecting' : 'active';
  tile.dataset.activeSpeaker = String(Boolean(e.speaking));
  tile.dataset.featured = String(Boolean(e.featured));
  tile.dataset.pinned = String(Boolean(e.pinned));
  tile.dataset.hand = String(facts.hand || 0);
  tile.dataset.floor = String(Boolean(facts.floor));
  tile.dataset.turn = facts.turn || '';
  tile.dataset.aside = String(Boolean(facts.aside));
  tile.dataset.sideRoom = String(Boolean(facts.sideRoom));
  tile.dataset.enforcedMute = String(Boolean(facts.enforcedAudio));
  const badges = [];
  if (e.pinned) badges.push(['pin', 'Pinned']);
  if (facts.floor) badges.push(['floor', 'Has the floor']);
  if (facts.turn === 'current') badges.push(['floor', 'Sharing']);
  if (facts.turn === 'next') badges.push(['next', 'Next']);
  if (facts.hand) badges.push(['hand', `Hand raised · ${facts.hand}`]);
  if (facts.aside) badges.push(['aside', 'Private conversation']);
  if (facts.sideRoom) badges.push(['side-room', facts.sideRoom]);
  if (facts.requested) badges.push(['ask', e.self ? 'You asked to speak' : 'Asks to speak']);
  const paused = Boolean(e.videoPaused) && Boolean(e.videoTrack) && !e.camOff;
  if (paused) badges.push(['paused', 'Video paused']);
  if (e.weak && !e.away) badges.push(['weak', 'Weak connection']);
  drawBadges(tile.querySelector('.tile-badges'), badges);
  const menu = tile.querySelector('.tile-menu-button');
  menu.hidden = !e.menu;
  menu.setAttribute('aria-label', `Options for ${e.name || 'Guest'}`);

  const video = tile.querySelector('video');
  // A paused video shows the initials, not its last frame frozen.
  const showVideo = Boolean(e.videoTrack) && !e.camOff && !paused;
  tile.dataset.wantsVideo = String(showVideo);
  tile.dataset.videoPaused = String(paused);
  if (!video.dataset.watched) {
    // Until pictures arrive the tile shows the name, not a black box.
    video.dataset.watched = 'true';
    const update = () => showFrames(tile, video);
    for (const ev of ['loadeddata', 'resize', 'emptied']) video.addEventListener(ev, update);
  }
  setSource(video, e.videoTrack);
  showFrames(tile, video);

  let audio = tile.querySelector('audio');
  if (e.audioTrack && !e.self) {
    if (!audio) {
      audio = document.createElement('audio');
      audio.autoplay = true;
      tile.append(audio);
    }
    setSource(audio, e.audioTrack);
  } else if (audio) {
    setSource(audio, null);
    audio.remove();
  }
  // A label for the whole tile, read when moving through the list.
  const parts = [name];
  if (role) parts.push(role);
  if (e.away) parts.push('reconnecting');
  if (facts.floor) parts.push('has the floor');
  if (facts.turn === 'current') parts.push('sharing now');
  if (facts.turn === 'next') parts.push('next in the go-around');
  if (facts.hand) parts.push(`hand raised, ${ordinal(facts.hand)} in line`);
  if (facts.aside) parts.push('in a private conversation');
  if (facts.sideRoom) {
    const where = facts.sideRoom.toLowerCase();
    parts.push(`${where.includes('side room') ? where : `${where} in a side room`}: the group cannot see or hear them`);
  }
  if (facts.requested) parts.push('asks to speak');
  // In an aside a facilitator's mute is lifted for the two of them.
  if (facts.enforcedAudio && !facts.aside && !facts.sideRoom) parts.push('muted by a facilitator');
  else if (e.micOff) parts.push('microphone off');
  if (e.weak && !e.away) parts.push('weak connection, they may break up');
  if (paused) parts.push('video paused because your connection is slow');
  else if (!showVideo) parts.push('camera off');
  if (e.speaking) parts.push('speaking');
  tile.setAttribute('aria-label', parts.join(', '));
}

// drawBadges shows small labels at the top of a tile: [[kind, text]].
function drawBadges(box, badges) {
  const key = JSON.stringify(badges);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(...badges.map(([kind, text]) => {
    const b = document.createElement('span');
    b.className = 'tile-badge';
    b.dataset.kind = kind;
    b.textContent = text;
    return b;
  }));
}

// showFrames shows the video of a tile when it should be seen and has a
// picture, and the initials otherwise.
function showFrames(tile, video) {
  const on = tile.dataset.wantsVideo === 'true' && video.videoWidth > 0;
  tile.dataset.camOff = String(!on);
}

// setSource plays a single track in a media element, leaving it alone when
// it already plays that track.
function setSource(el, track) {
  const current = el.srcObject ? el.srcObject.getTracks()[0] : null;
  if (current === (track || null)) return;
  el.srcObject = track ? new MediaStream([track]) : null;
  if (track) {
    el.play().catch(() => {
      // Autoplay can be refused until the person interacts with the page.
      el.dataset.blocked = 'true';
    });
  }
}

function detach(tile) {
  for (const el of tile.querySelectorAll('video, audio')) el.srcObject = null;
}

// layoutGrid sizes the tiles so that all fit in the stage as large as they
// can be, with a shape between 4:3 and 16:9.
export function layoutGrid(grid) {
  // One's own picture in the corner of a phone takes no place in the grid.
  const n = [...grid.children].filter((el) => el.dataset.pip !== 'true').length;
  const stage = grid.parentElement;
  const gap = parseFloat(getComputedStyle(grid).gap) || 12;
  const W = stage.clientWidth;
  let H = stage.clientHeight;
  for (const el of stage.children) if (el !== grid && !el.hidden) H -= el.offsetHeight + 12;
  H -= parseFloat(getComputedStyle(grid).paddingBottom) || 0;
  if (n === 0 || W === 0 || H <= 0) return;
  if (grid.dataset.view === 'speaker' && n >= 2) {
    layoutSpeaker(grid, n, W, H, gap);
    return;
  }
  if (W < 600 && n >= 2) {
    // A phone: two columns of portrait tiles, scrolling when many.
    const w = (W - gap) / 2;
    const rows = Math.ceil(n / 2);
    const h = Math.max(w * 0.75, Math.min(w * 1.25, (H - gap * (rows - 1)) / rows));
    grid.style.setProperty('--tile-w', `${Math.floor(w)}px`);
    grid.style.setProperty('--tile-h', `${Math.floor(h)}px`);
    grid.dataset.cols = '2';
    return;
  }
  let best = { area: -1, w: 0, h: 0, cols: 1 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    let w = (W - gap * (cols - 1)) / cols;
    let h = (H - gap * (rows - 1)) / rows;
    if (w <= 0 || h <= 0) continue;
    if (h > w * 0.75) h = w * 0.75; // taller than 4:3
    if (h < w * 0.5625) w = h / 0.5625; // wider than 16:9
    if (w * h > best.area) best = { area: w * h, w, h, cols };
  }
  // A very large picture of yourself, or of anyone, is more tiring than
  // helpful; one person alone gets a modest tile.
  const maxW = n === 1 ? 720 : 960;
  if (best.w > maxW) {
    best.h *= maxW / best.w;
    best.w = maxW;
  }
  // On a small screen with many people the grid scrolls instead of
  // shrinking tiles below a readable size.
  const minW = 150;
  if (best.w < minW) {
    const cols = Math.max(1, Math.floor((W + gap) / (minW + gap)));
    best.w = (W - gap * (cols - 1)) / cols;
    best.h = best.w * 0.75;
    best.cols = cols;
  }
  grid.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
  grid.style.setProperty('--tile-h', `${Math.floor(best.h)}px`);
  grid.dataset.cols = String(best.cols);
}

// layoutSpeaker sizes the speaker view: the person featured as large as
// the stage allows (between 4:3 and 16:9), everyone else small in up to
// two rows below, which scroll beyond that.
function layoutSpeaker(grid, n, W, H, gap) {
  // On a phone three portrait tiles fill a row.
  const phoneW = Math.floor((W - 2 * gap) / 3);
  const small = W < 600 ? { w: phoneW, h: Math.floor(phoneW * 1.3) } : { w: 160, h: 120 };
  const perRow = Math.max(1, Math.floor((W + gap) / (small.w + gap)));
  const rows = Math.min(2, Math.ceil((n - 1) / perRow));
  let w = W;
  let h = Math.max(small.h, H - rows * (small.h + gap));
  if (h > w * 0.75) h = w * 0.75;
  if (h < w * 0.5625) w = h / 0.5625;
  grid.style.setProperty('--feature-w', `${Math.floor(w)}px`);
  grid.style.setProperty('--feature-h', `${Math.floor(h)}px`);
  grid.style.setProperty('--tile-w', `${small.w}px`);
  grid.style.setProperty('--tile-h', `${small.h}px`);
  grid.dataset.cols = String(perRow);
}
