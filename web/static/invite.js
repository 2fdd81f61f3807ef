// The invitation: a join token from the link's fragment, kept for the tab
// and out of the address bar, and the room named by the address.

import { app } from './state.js';

const TOKEN_KEY = 'hearth.invite';

export function readInvite() {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const token = hash.get('token');
  const roomFromURL = roomFromLocation();
  if (token) {
    app.invite = { token, room: roomFromURL };
    try {
      sessionStorage.setItem(TOKEN_KEY, JSON.stringify(app.invite));
    } catch { /* storage may be off; the token still works for this visit */ }
    // Keep the token out of the address bar, so it is not shared by
    // copying the address or seen over a shoulder.
    history.replaceState(null, '', window.location.pathname + window.location.search);
  } else {
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
      if (saved && saved.token && (!roomFromURL || !saved.room || saved.room === roomFromURL)) app.invite = saved;
    } catch { /* ignore */ }
  }
}

export function roomFromLocation() {
  const m = window.location.pathname.match(/^\/r\/([^/]+)\/?$/);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  return new URLSearchParams(window.location.search).get('room') || '';
}

export function currentToken(room) {
  if (!app.invite) return '';
  if (app.invite.room && app.invite.room !== room) return '';
  return app.invite.token;
}
