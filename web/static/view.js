// Gallery or speaker view, and a pinned person: choices each person makes
// for their own screen only (nobody else learns of them), the view kept in
// this browser. The speaker view shows one person large and everyone else
// in a row below: the person pinned; else who has the floor or whose turn
// it is; else who is speaking now; else whoever was shown last, so that the
// picture does not jump when someone stops; else a facilitator.

import { app, render, nameOf } from './state.js';
import { $, announce } from './ui.js';

const KEY = 'hearth.view';

const view = {
  mode: 'gallery', // 'gallery' | 'speaker'
  pinned: null, // participant id, or null
  shown: null, // who the speaker view showed last
};

function readMode() {
  try {
    return localStorage.getItem(KEY) === 'speaker' ? 'speaker' : 'gallery';
  } catch {
    return 'gallery';
  }
}

// setViewMode switches between the gallery and the speaker view.
export function setViewMode(mode) {
  view.mode = mode === 'speaker' ? 'speaker' : 'gallery';
  if (view.mode === 'gallery') view.pinned = null;
  try {
    localStorage.setItem(KEY, view.mode);
  } catch {
    // Private windows may refuse; the choice then lasts this page.
  }
  announce(view.mode === 'speaker' ? 'Speaker view.' : 'Gallery view: everyone the same size.');
  render();
}

// togglePin pins id (showing them large in the speaker view) or unpins
// them.
export function togglePin(id) {
  if (view.pinned === id) {
    view.pinned = null;
    announce(`${nameOf(id)} is no longer pinned.`);
  } else {
    view.pinned = id;
    view.mode = 'speaker';
    announce(`${nameOf(id)} is pinned: shown large on your screen only.`);
  }
  render();
}

// pinnedId is who this person pinned, or null.
export function pinnedId() {
  return view.pinned;
}

// featured chooses who the speaker view shows among entries (the tiles,
// one's own first), from the controls' view v.
function featured(entries, v) {
  const others = entries.filter((e) => !e.self);
  if (others.length === 0) return null;
  const here = (id) => Boolean(id) && others.some((e) => e.id === id);
  if (here(view.pinned)) return view.pinned;
  const holder = v ? v.holder : '';
  if (here(holder)) return holder;
  if (here(app.activeSpeaker)) return app.activeSpeaker;
  if (here(view.shown)) return view.shown;
  const fac = others.find((e) => e.role === 'facilitator' || e.role === 'co_facilitator');
  return (fac || others[0]).id;
}

// arrange marks the entries for the view: in the speaker view the one
// featured comes first and is marked; it returns the mode in force (the
// gallery while a screen share is shown, since the share is then what is
// large).
export function arrange(entries, v, sharing) {
  if (view.pinned && !entries.some((e) => e.id === view.pinned && !e.self)) view.pinned = null;
  const mode = sharing ? 'gallery' : view.mode;
  for (const e of entries) e.pinned = e.id === view.pinned;
  if (mode !== 'speaker') return mode;
  const id = featured(entries, v);
  view.shown = id;
  const i = entries.findIndex((e) => e.id === id);
  if (i >= 0) {
    const [e] = entries.splice(i, 1);
    e.featured = true;
    entries.unshift(e);
  }
  return mode;
}

// renderViewButton shows the view switch in the header while in a call
// with someone else.
export function renderViewButton(inCall) {
  const b = $('view-button');
  b.hidden = !inCall || app.participants.size === 0;
  const speaker = view.mode === 'speaker';
  b.setAttribute('aria-pressed', String(speaker));
  b.setAttribute('aria-label', 'Speaker view');
  b.title = speaker ? 'Speaker view is on: show everyone the same size' : 'Speaker view: show one person large';
}

export function wireView() {
  view.mode = readMode();
  $('view-button').addEventListener('click', () => setViewMode(view.mode === 'speaker' ? 'gallery' : 'speaker'));
}
