// Chat (PROTOCOL.md, "Chat"): the messages panel, what it shows and what
// it sends. Messages are delivered live and kept nowhere: the page shows
// what arrives while the person is here, and says so. Text is shown as
// text; nothing a message names is fetched or opened.
//
// Everyone seated writes to the facilitators; members and facilitators to
// everyone (members only while chat is on); facilitators to one person,
// which the other facilitators see too. A message shows when the server
// passes it back, so what is on screen is what others got.

import { app, render, send, nameOf } from './state.js';
import { el, button, pending, settled } from './facilitator-kit.js';
import { isFacilitator, roleLabel } from './text.js';
import { $, announce } from './ui.js';

// The server's limit, in characters (code points).
const MAX_CHARS = 1000;
// Past this many characters the count of what is left shows.
const COUNT_FROM = 800;
// How many messages the page keeps; older ones go.
const KEEP = 200;

const WORDS = {
  off: 'The facilitator has turned off messages to everyone. You can still write to the facilitators.',
  offFac: 'Members can write only to the facilitators now.',
  noFac: 'No facilitator is here just now.',
  missed: 'Your connection dropped for a moment: messages sent meanwhile did not reach you.',
  tooLong: `A message can have at most ${MAX_CHARS.toLocaleString('en')} characters.`,
  tooFast: 'You are sending messages quickly. Wait a moment, then send it again.',
};

const chat = {
  open: false,
  // {id, from, name, to, text, time, removed, by} or {note: text}
  messages: [],
  unread: 0,
  to: '', // the address chosen in the form
  sent: null, // text sent and not back yet
  nextNote: 0,
  optionsKey: '',
};

// isOpen reports whether the messages panel is shown.
export function chatIsOpen() {
  return chat.open && app.screen === 'call' && Boolean(app.self);
}

// setChatOpen shows or hides the panel; an opened panel has nothing unread.
export function setChatOpen(open, { focus = true } = {}) {
  chat.open = open;
  if (open) {
    chat.unread = 0;
    // Two side panels leave too little room for the pictures on all but
    // the widest screens: the people panel closes.
    if (!window.matchMedia('(min-width: 1400px)').matches) app.panelOpen = false;
  }
  render();
  // Messages that came while it was closed: the newest is in view.
  if (open) $('chat-log').scrollTop = $('chat-log').scrollHeight;
  if (!focus) return;
  if (open) {
    const text = $('chat-text');
    (text.disabled ? $('chat-title') : text).focus();
  } else {
    $('chat-button').focus();
  }
}

// writeTo opens the panel ready to write to an address ("facilitators").
export function writeTo(to) {
  chat.to = to;
  chat.optionsKey = '';
  setChatOpen(true);
}

// resetChat forgets every message: a new session starts with none.
export function resetChat() {
  chat.messages = [];
  chat.unread = 0;
  chat.sent = null;
  chat.to = '';
  chat.optionsKey = '';
  $('chat-list').replaceChildren();
  showError('');
}

// noteMissed says, after a reconnection, that messages may have been missed.
export function noteMissed() {
  if (chat.messages.length === 0) return;
  keep({ note: WORDS.missed, id: `note-${chat.nextNote++}` });
  render();
}

// onChat shows a message the server passed on.
export function onChat(msg) {
  if (!app.self || typeof msg.id !== 'string' || typeof msg.text !== 'string') return;
  const m = {
    id: msg.id,
    from: String(msg.from || ''),
    name: String(msg.name || ''),
    to: String(msg.to || ''),
    text: msg.text,
    time: msg.time,
  };
  keep(m);
  const mine = m.from === app.self.id;
  if (mine && chat.sent === m.text) {
    chat.sent = null;
    if ($('chat-text').value.trim() === m.text.trim()) $('chat-text').value = '';
    showError('');
  }
  if (!mine) {
    const who = m.name || nameOf(m.from);
    const what = m.to === 'room' ? 'message' : 'private message';
    if (!chatIsOpen()) {
      chat.unread += 1;
      announce(`New ${what} from ${who}.`);
    }
  }
  render();
}

// onChatRemoved takes a removed message's text off the screen.
export function onChatRemoved(msg) {
  const m = chat.messages.find((x) => x.id === msg.id && !x.note);
  if (!m || m.removed) return;
  m.removed = true;
  m.by = msg.by;
  m.text = '';
  announce(msg.by === (app.self && app.self.id) ? 'You removed a message.' : msg.by === m.from ? `${m.name || 'Someone'} removed a message.` : 'A facilitator removed a message.');
  render();
}

// onChatError shows a refused chat message in the panel; the draft stays.
export function onChatError(code, message) {
  chat.sent = null;
  showError(code === 'rate_limited' ? WORDS.tooFast : message || 'That message was not sent.');
  render();
}

function keep(m) {
  chat.messages.push(m);
  if (chat.messages.length > KEEP) chat.messages.splice(0, chat.messages.length - KEEP);
}

function showError(text) {
  $('chat-error').textContent = text;
  $('chat-error').hidden = !text;
}

// ------------------------------------------------------------ drawing

// renderChat draws the button, its unread count and the panel from the
// state; call.js calls it on every redraw.
export function renderChat() {
  const seated = app.screen === 'call' && Boolean(app.self);
  const open = chatIsOpen();
  const b = $('chat-button');
  b.hidden = !seated;
  b.setAttribute('aria-expanded', String(open));
  const badge = $('chat-badge');
  badge.hidden = open || chat.unread === 0;
  badge.textContent = String(chat.unread);
  b.setAttribute('aria-label', chat.unread && !open ? `Chat, ${chat.unread} unread` : 'Chat');
  $('chat-panel').hidden = !open;
  document.body.dataset.chat = open ? 'open' : 'closed';
  if (!seated) return;

  const isFac = isFacilitator(app.self.role);
  const off = Boolean(app.view && app.view.policy && app.view.policy.chat === 'off');
  const toggle = $('chat-everyone');
  $('chat-everyone-field').hidden = !isFac;
  if (isFac && settled('chat-everyone', app.view)) toggle.checked = !off;
  $('chat-off-note').hidden = !off;
  $('chat-off-note').textContent = isFac ? WORDS.offFac : WORDS.off;
  drawOptions(isFac, off);
  drawList(isFac);
  $('chat-empty').hidden = chat.messages.length > 0;
  const count = [...$('chat-text').value].length;
  $('chat-count').hidden = count < COUNT_FROM;
  $('chat-count').textContent = count > MAX_CHARS
    ? `${(count - MAX_CHARS).toLocaleString('en')} characters too many`
    : `${(MAX_CHARS - count).toLocaleString('en')} characters left`;
}

// addresses lists where this person may write now: [value, label, group].
function addresses(isFac, off) {
  const others = [...app.participants.values()].filter((p) => p.state !== 'reconnecting');
  const facs = others.filter((p) => isFacilitator(p.role));
  const out = [];
  if (app.self.role !== 'observer' && (!off || isFac)) out.push(['room', 'Everyone', '']);
  if (!isFac) out.push(['facilitators', 'The facilitators', '']);
  else if (facs.length) out.push(['facilitators', 'The other facilitators', '']);
  if (isFac) {
    for (const p of others) {
      const role = roleLabel(p.role);
      out.push([p.id, role ? `${p.name || nameOf(p.id)} (${role})` : p.name || nameOf(p.id), 'Privately to']);
    }
  }
  return { list: out, facs: facs.length };
}

function drawOptions(isFac, off) {
  const { list, facs } = addresses(isFac, off);
  const select = $('chat-to');
  if (!list.some(([v]) => v === chat.to)) chat.to = list.length ? list[0][0] : '';
  const key = JSON.stringify([list, chat.to]);
  if (key !== chat.optionsKey) {
    chat.optionsKey = key;
    const groups = new Map();
    const nodes = [];
    for (const [value, label, group] of list) {
      const opt = el('option', { value }, label);
      if (!group) {
        nodes.push(opt);
        continue;
      }
      if (!groups.has(group)) {
        const g = el('optgroup', { label: group });
        groups.set(group, g);
        nodes.push(g);
      }
      groups.get(group).append(opt);
    }
    select.replaceChildren(...nodes);
    select.value = chat.to;
  }
  const nobody = list.length === 0 || (chat.to === 'facilitators' && !isFac && facs === 0);
  $('chat-nobody').hidden = !nobody;
  $('chat-nobody').textContent = WORDS.noFac;
  $('chat-text').disabled = list.length === 0;
  $('chat-send').disabled = nobody;
}

// drawList keeps one item per message, in order, reusing items so that
// focus stays where it was.
function drawList(isFac) {
  const list = $('chat-list');
  const log = $('chat-log');
  // Following the newest message unless the person scrolled back.
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  let follow = false;
  const old = new Map([...list.children].map((li) => [li.dataset.chatId, li]));
  let prev = null;
  for (const m of chat.messages) {
    let li = old.get(m.id);
    if (li) old.delete(m.id);
    else li = el('li', { className: 'chat-item', dataset: { chatId: m.id } });
    const key = JSON.stringify([m.removed || false, isFac]);
    if (li.dataset.key !== key) {
      li.dataset.key = key;
      fill(li, m, isFac);
    }
    const want = prev ? prev.nextElementSibling : list.firstElementChild;
    if (want !== li) {
      list.insertBefore(li, want);
      follow = follow || atEnd || m.from === app.self.id;
    }
    prev = li;
  }
  for (const li of old.values()) li.remove();
  if (follow) log.scrollTop = log.scrollHeight;
}

// fill draws one message: who, to whom (private ones marked), when, the
// text as text, and the facilitators' actions.
function fill(li, m, isFac) {
  if (m.note) {
    li.className = 'chat-item chat-note';
    li.replaceChildren(el('p', {}, m.note));
    return;
  }
  const me = app.self.id;
  const mine = m.from === me;
  const priv = m.to !== 'room';
  li.className = 'chat-item';
  li.dataset.private = String(priv);
  li.dataset.mine = String(mine);
  li.dataset.removed = String(Boolean(m.removed));
  const head = el('p', { className: 'chat-meta' },
    el('span', { className: 'chat-from' }, mine ? 'You' : m.name || nameOf(m.from)));
  if (priv) head.append(' ', el('span', { className: 'chat-private' }, 'Private'), ' ', el('span', { className: 'chat-to' }, toWords(m, me)));
  const at = clockTime(m.time);
  if (at) head.append(' ', el('time', { className: 'chat-time', dateTime: m.time }, at));
  const body = m.removed
    ? el('p', { className: 'chat-text chat-removed' }, removedText(m, me))
    : el('p', { className: 'chat-text' }, m.text);
  li.replaceChildren(head, body);
  if (m.removed) return;
  const actions = [];
  if (priv && !mine) {
    actions.push(button({ className: 'btn btn-quiet btn-small', dataset: { action: 'reply' } }, 'Reply privately'));
  }
  if (isFac || mine) {
    actions.push(button({ className: 'btn btn-danger-quiet btn-small', dataset: { action: 'remove' } },
      'Remove', el('span', { className: 'visually-hidden' }, ` the message from ${mine ? 'you' : m.name || 'someone'}`)));
  }
  if (actions.length) li.append(el('div', { className: 'chat-actions' }, ...actions));
}

// toWords says to whom a private message went, for the person reading it.
function toWords(m, me) {
  if (m.to === 'facilitators') return 'to the facilitators';
  if (m.to === me) return isFacilitator(app.self.role) ? 'to you' : 'to you (the facilitators see it)';
  return `to ${nameOf(m.to)}`;
}

function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// ------------------------------------------------------------ actions

function submit(ev) {
  ev.preventDefault();
  const box = $('chat-text');
  const text = box.value.trim();
  if (!text) {
    box.focus();
    return;
  }
  if ([...text].length > MAX_CHARS) {
    showError(WORDS.tooLong);
    return;
  }
  const to = $('chat-to').value || chat.to;
  if (!to || !send({ type: 'chat', to, text })) {
    showError('Not connected just now: the message was not sent.');
    return;
  }
  chat.sent = text;
  showError('');
}

function onListClick(ev) {
  const b = ev.target.closest('button[data-action]');
  const li = b && b.closest('[data-chat-id]');
  const m = li && chat.messages.find((x) => x.id === li.dataset.chatId);
  if (!m) return;
  if (b.dataset.action === 'remove') {
    send({ type: 'remove_chat', id: m.id });
    return;
  }
  if (b.dataset.action === 'reply') {
    chat.to = replyTo(m);
    chat.optionsKey = '';
    render();
    $('chat-text').focus();
  }
}

// replyTo is where a reply to a private message goes: for a member, to
// the facilitators; for a facilitator, on with the one person the
// conversation is with.
function replyTo(m) {
  if (!isFacilitator(app.self.role)) return 'facilitators';
  const sender = app.participants.get(m.from);
  if (m.to === 'facilitators') return sender && isFacilitator(sender.role) ? 'facilitators' : m.from;
  return m.to === app.self.id ? m.from : m.to;
}

function onToggle() {
  const on = $('chat-everyone').checked;
  if (send({ type: 'set_policy', chat: on ? 'on' : 'off' })) {
    pending.set('chat-everyone', app.view ? app.view.version : 0);
    announce(on ? 'Members can write to everyone again.' : 'Members can now write only to the facilitators.');
  }
}

// wireChat connects the panel's controls; app.js calls it once.
export function wireChat() {
  $('chat-button').addEventListener('click', () => setChatOpen(!chatIsOpen()));
  $('chat-close').addEventListener('click', () => setChatOpen(false));
  $('chat-form').addEventListener('submit', submit);
  $('chat-to').addEventListener('change', () => {
    chat.to = $('chat-to').value;
    render();
  });
  $('chat-text').addEventListener('input', () => {
    if (!$('chat-error').hidden && !chat.sent) showError('');
    render();
  });
  $('chat-text').addEventListener('keydown', (ev) => {
    // Enter sends, Shift+Enter starts a new line.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('chat-form').requestSubmit();
    }
  });
  $('chat-list').addEventListener('click', onListClick);
  $('chat-everyone').addEventListener('change', onToggle);
  $('chat-panel').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') setChatOpen(false);
  });
}

// messages is a copy of what the panel holds, for the test hooks.
export function chatMessages() {
  return chat.messages.map((m) => ({ ...m }));
}

// removedText says who took a message off the screen: oneself, its sender
// or a facilitator.
function removedText(m, me) {
  if (m.by === me) return 'You removed this message.';
  if (m.by === m.from) return `${m.name || 'Someone'} removed this message.`;
  return 'A facilitator removed this message.';
}
