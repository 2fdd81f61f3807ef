// The facilitator panel: who is here, who is waiting, and room controls.
//
// The panel is a list of sections. Each section is an object
//
//   {
//     id: 'waiting',                 // becomes data-section="waiting"
//     title: 'Waiting',              // the section heading
//     mount(el, actions),            // build the section's fixed parts once
//     update(el, view, actions),     // redraw from the current view
//   }
//
// where `view` is {room, self, participants, waitingList} (plain data) and
// `actions` sends requests to the server (admit, deny, setLocked, and
// whatever app.js adds). To add a control, write a section and pass it to
// addSection; the order of the array is the order on screen.

import { roleLabel } from './text.js';

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
};

const hidden = (text) => el('span', { className: 'visually-hidden' }, text);

// syncList makes the <ul> show one <li> per item, keyed by item.id, reusing
// existing items so that keyboard focus stays where it was.
function syncList(ul, items, attr, create, update) {
  const old = new Map();
  for (const li of ul.children) old.set(li.dataset[attr], li);
  let focusLost = false;
  let prev = null;
  for (const item of items) {
    let li = old.get(item.id);
    if (li) old.delete(item.id);
    else li = create(item);
    update(li, item);
    const want = prev ? prev.nextElementSibling : ul.firstElementChild;
    if (want !== li) ul.insertBefore(li, want);
    prev = li;
  }
  for (const li of old.values()) {
    if (li.contains(document.activeElement)) focusLost = true;
    li.remove();
  }
  return focusLost;
}

const roomSection = {
  id: 'room',
  title: 'Room',
  mount(root, actions) {
    const button = el('button', {
      id: 'lock-button', type: 'button', className: 'btn btn-secondary btn-block',
    });
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => actions.setLocked(button.getAttribute('aria-pressed') !== 'true'));
    root.append(button, el('p', { id: 'lock-hint', className: 'hint' }));
  },
  update(root, view) {
    const locked = Boolean(view.room && view.room.locked);
    const button = root.querySelector('#lock-button');
    button.setAttribute('aria-pressed', String(locked));
    button.dataset.locked = String(locked);
    button.textContent = locked ? 'Unlock room' : 'Lock room';
    root.querySelector('#lock-hint').textContent = locked
      ? 'The room is locked. New arrivals wait until you let them in.'
      : 'The room is open. Lock it to stop new arrivals from coming straight in.';
  },
};

const waitingSection = {
  id: 'waiting',
  title: 'Waiting',
  mount(root, actions) {
    const bulk = el('div', { className: 'bulk' },
      el('button', { id: 'admit-all', type: 'button', className: 'btn btn-primary btn-small' }, 'Admit all'),
      el('button', { id: 'deny-all', type: 'button', className: 'btn btn-secondary btn-small' }, 'Deny all'));
    const list = el('ul', { id: 'waiting-list', className: 'people-list' });
    const empty = el('p', { id: 'waiting-empty', className: 'hint' }, 'No one is waiting.');
    root.append(bulk, list, empty);
    root.addEventListener('click', (ev) => {
      const button = ev.target.closest('button');
      if (!button) return;
      if (button.id === 'admit-all') actions.admit('*');
      else if (button.id === 'deny-all') actions.deny('*');
      else {
        const li = button.closest('[data-waiting]');
        if (!li) return;
        if (button.dataset.action === 'admit') actions.admit(li.dataset.waiting);
        if (button.dataset.action === 'deny') actions.deny(li.dataset.waiting);
      }
    });
  },
  update(root, view) {
    const entries = view.waitingList;
    root.querySelector('.section-count').textContent = entries.length ? String(entries.length) : '';
    root.querySelector('.bulk').hidden = entries.length < 2;
    root.querySelector('#waiting-empty').hidden = entries.length > 0;
    const list = root.querySelector('#waiting-list');
    const focusLost = syncList(list, entries, 'waiting',
      (item) => {
        const li = el('li', { className: 'person', dataset: { waiting: item.id, testid: 'waiting-entry' } },
          el('span', { className: 'person-text' },
            el('span', { className: 'person-name' }),
            el('span', { className: 'person-meta' })),
          el('span', { className: 'person-actions' },
            el('button', { type: 'button', className: 'btn btn-primary btn-small', dataset: { action: 'admit' } }),
            el('button', { type: 'button', className: 'btn btn-secondary btn-small', dataset: { action: 'deny' } })));
        return li;
      },
      (li, item) => {
        const name = item.name || item.identity || 'Someone';
        li.querySelector('.person-name').textContent = name;
        li.querySelector('.person-meta').textContent = since(item.since);
        li.querySelector('[data-action="admit"]').replaceChildren('Admit', hidden(` ${name}`));
        li.querySelector('[data-action="deny"]').replaceChildren('Deny', hidden(` ${name}`));
      });
    if (focusLost) {
      const next = list.querySelector('[data-action="admit"]');
      (next || root.querySelector('h3')).focus();
    }
  },
};

const peopleSection = {
  id: 'people',
  title: 'In the room',
  mount(root) {
    root.append(el('ul', { id: 'people-list', className: 'people-list' }));
  },
  update(root, view) {
    const people = [view.self, ...view.participants].filter(Boolean);
    root.querySelector('.section-count').textContent = String(people.length);
    syncList(root.querySelector('#people-list'), people, 'person',
      (item) => el('li', { className: 'person', dataset: { person: item.id } },
        el('span', { className: 'person-text' },
          el('span', { className: 'person-name' }),
          el('span', { className: 'person-meta' }))),
      (li, item) => {
        const you = view.self && item.id === view.self.id;
        li.querySelector('.person-name').textContent = (item.name || 'Guest') + (you ? ' (you)' : '');
        const meta = [];
        const role = roleLabel(item.role);
        if (role) meta.push(role);
        if (item.muted && item.muted.audio) meta.push('mic off');
        if (item.muted && item.muted.video) meta.push('camera off');
        li.querySelector('.person-meta').textContent = meta.join(' · ');
      });
  },
};

function since(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'waiting';
  const minutes = Math.floor((Date.now() - t) / 60_000);
  if (minutes < 1) return 'waiting, just arrived';
  const time = new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  return `waiting since ${time}`;
}

export const sections = [waitingSection, roomSection, peopleSection];

// addSection adds a section, before the section with id `before` or last.
export function addSection(section, before) {
  const i = sections.findIndex((s) => s.id === before);
  if (i < 0) sections.push(section);
  else sections.splice(i, 0, section);
}

export class FacilitatorPanel {
  constructor(container, actions) {
    this.container = container;
    this.actions = actions;
    this.mounted = new Map();
  }

  // update draws every section from the view, mounting new ones first.
  update(view) {
    for (const s of sections) {
      let root = this.mounted.get(s.id);
      if (!root) {
        const headingId = `section-${s.id}-title`;
        root = el('section', { className: 'panel-section', dataset: { section: s.id } },
          el('h3', { id: headingId, tabIndex: -1 }, s.title, ' ', el('span', { className: 'section-count' })));
        root.setAttribute('aria-labelledby', headingId);
        this.container.append(root);
        s.mount(root, this.actions);
        this.mounted.set(s.id, root);
      }
      s.update(root, view, this.actions);
    }
  }
}
