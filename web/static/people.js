// The people panel of members and observers: who is here, whose
// microphone is off or muted, whose hand is up and who has the floor; and
// a way to write to the facilitators, so that someone whose microphone
// fails can say so. Facilitators have their own panel (facilitator.js).

import { app, nameOf } from './state.js';
import { el, button, syncList } from './facilitator-kit.js';
import { tileFacts, selfGate } from './controls.js';
import { isFacilitator, roleLabel, ordinal } from './text.js';
import { writeTo } from './chat.js';

// renderPeople draws the list into the panel's container.
export function renderPeople(container) {
  let root = container.querySelector('[data-section="people-here"]');
  if (!root) {
    root = el('section', { className: 'panel-section', dataset: { section: 'people-here' } },
      el('div', { className: 'people-help' },
        button({ id: 'write-facilitators', className: 'btn btn-secondary btn-block' }, 'Write to the facilitators'),
        el('p', { className: 'hint' }, 'Only they see it: say so if your microphone or camera is not working, or if you would like a word.')),
      el('h3', { id: 'people-here-title', tabIndex: -1 }, 'Here now', ' ', el('span', { className: 'section-count' })),
      el('ul', { id: 'people-here', className: 'people-list' }));
    root.setAttribute('aria-labelledby', 'people-here-title');
    root.querySelector('ul').setAttribute('aria-labelledby', 'people-here-title');
    root.querySelector('#write-facilitators').addEventListener('click', () => writeTo('facilitators'));
    container.replaceChildren(root);
  }
  const people = everyone();
  root.querySelector('.section-count').textContent = String(people.length);
  syncList(root.querySelector('ul'), people, 'person', create, update);
  root.querySelector('.people-help').hidden = !people.some((p) => !p.self && !p.away && isFacilitator(p.role));
}

// everyone lists the people seated, oneself included: facilitators first,
// then in the order they came.
function everyone() {
  const v = app.view;
  const order = v ? v.participants.map((p) => p.id) : [];
  const ids = [app.self.id, ...app.participants.keys()];
  ids.sort((a, b) => rank(a) - rank(b) || index(order, a) - index(order, b));
  return ids.map((id) => describe(id, v));
}

function rank(id) {
  const role = id === app.self.id ? app.self.role : (app.participants.get(id) || {}).role;
  return isFacilitator(role) ? 0 : 1;
}

function index(order, id) {
  const i = order.indexOf(id);
  return i < 0 ? order.length : i;
}

// describe says what the list shows of one person.
function describe(id, v) {
  const self = id === app.self.id;
  const p = self ? app.self : app.participants.get(id);
  const facts = tileFacts(v, id);
  const observer = p.role === 'observer';
  const status = [];
  const away = !self && p.state === 'reconnecting';
  if (away) status.push('Reconnecting…');
  if (facts.floor) status.push('Has the floor');
  if (facts.turn === 'current') status.push('Sharing now');
  if (facts.turn === 'next') status.push('Next in the go-around');
  if (facts.hand) status.push(`Hand raised, ${ordinal(facts.hand)} in line`);
  if (facts.aside) status.push('In a private conversation');
  if (facts.requested) status.push('Asks to speak');
  let micOff;
  if (observer) {
    status.push('Watching and listening');
    micOff = true;
  } else if (self) {
    micOff = app.micMuted || !app.local.audio || Boolean(selfGate(v));
    if (selfGate(v) && !app.micMuted) status.push('Not heard now');
    else if (app.mediaStarting && !app.local.audio && !app.micMuted) status.push('Microphone starting…');
    else status.push(micOff ? 'Microphone off' : 'Microphone on');
  } else {
    const publishes = p.tracks.some((t) => t.kind === 'audio');
    micOff = p.muted.audio || !publishes || Boolean(facts.enforcedAudio) || Boolean(facts.unheard);
    if (facts.enforcedAudio && !facts.aside) status.push('Muted by a facilitator');
    else if (facts.unheard && !p.muted.audio) status.push('Not heard now');
    else status.push(micOff ? 'Microphone off' : 'Microphone on');
  }
  return {
    id,
    self,
    away,
    role: p.role,
    name: self ? `${p.name || nameOf(id)} (you)` : p.name || nameOf(id),
    meta: [roleLabel(p.role), ...status].filter(Boolean).join(' · '),
    micOff,
    hand: facts.hand || 0,
  };
}

function create() {
  return el('li', { className: 'person' },
    el('span', { className: 'person-text' },
      el('span', { className: 'person-name' }),
      el('span', { className: 'person-meta' })));
}

function update(li, p) {
  li.querySelector('.person-name').textContent = p.name;
  li.querySelector('.person-meta').textContent = p.meta;
  li.dataset.micOff = String(p.micOff);
  li.dataset.hand = String(p.hand);
  li.dataset.state = p.away ? 'reconnecting' : 'active';
}
