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
// where `view` is {room, self, participants, waitingList, ctl, talkTime,
// nameOf} (ctl is the controls view of controls.js, or null before the first
// room_state) and `actions` sends requests to the server (admit, deny,
// setLocked, send(msg), confirm({...}) and whatever call.js adds). To add a
// control, write a section and pass it to addSection; the order of the
// array is the order on screen.
//
// Every control draws from the newest room_state, never from what was
// clicked: a command the server refuses leaves the screen as the state says.

import {
  roleLabel, SHARE_LENGTHS, shareLengthLabel, TURN_STATUS, ROUND_ORDERS, duration, ordinal,
} from './text.js';

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

const button = (props, ...children) => el('button', { type: 'button', ...props }, ...children);

// Choices made in the panel that are not room state: the length of the next
// share and of each turn, and the order of the next go-around.
const prefs = { shareSeconds: 0, turnSeconds: 0, order: 'join' };

// A toggle the person just changed keeps its new value until a newer
// room_state arrives (or the server refuses), so it does not flicker back.
const pending = new Map(); // control id -> room_state version when changed

function settled(id, ctl) {
  if (!pending.has(id)) return true;
  if (!ctl || ctl.version !== pending.get(id)) {
    pending.delete(id);
    return true;
  }
  return false;
}

// clearPending forgets the toggles waiting for the server; messages.js calls it
// when a control command is refused.
export function clearPending() {
  pending.clear();
}

function lengthSelect(id, value) {
  const select = el('select', { id, className: 'select' });
  for (const s of SHARE_LENGTHS) select.append(el('option', { value: String(s), selected: s === value }, shareLengthLabel(s)));
  return select;
}

function since(iso, verb) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  // Clocks differ a little; a time in the future is "just now".
  const minutes = Math.floor((Date.now() - t) / 60_000);
  if (minutes < 1) return `${verb} just now`;
  if (minutes === 1) return `${verb} a minute ago`;
  if (minutes < 60) return `${verb} ${minutes} minutes ago`;
  return `${verb} at ${new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}`;
}

const RANK = { facilitator: 4, 'co-facilitator': 3, cofacilitator: 3, member: 2, observer: 1 };

// mayModerate reports whether the person at this browser may mute or remove
// target: nobody of a higher role.
function mayModerate(self, target) {
  return (RANK[target.role] || 0) <= (RANK[self && self.role] || 0);
}
// syncList makes the <ul> show one <li> per item, keyed by item.id, reusing
// existing items so that keyboard focus stays where it was.
function syncList(ul, items, attr, create, update) {
  const old = new Map();
  for (const li of ul.children) old.set(li.dataset[attr], li);
  let focusLost = false;
  let prev = null;
  for (const item of items) {
    let li = old.get(item.id);
    if (li) {
      old.delete(item.id);
    } else {
      li = create(item);
      li.dataset[attr] = item.id;
    }
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
    const end = el('button', { id: 'end-session-button', type: 'button', className: 'btn btn-danger btn-block' }, 'End the session for everyone');
    end.addEventListener('click', async () => {
      const answer = await actions.confirm({
        title: 'End the session for everyone?',
        message: 'Everyone leaves at once, including anyone in the waiting room. This cannot be undone.',
        confirmLabel: 'End session',
      });
      if (answer.ok) actions.send({ type: 'end_session' });
    });
    root.append(button, el('p', { id: 'lock-hint', className: 'hint' }), end);
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
        li.querySelector('.person-meta').textContent = waitingSince(item.since);
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
  mount(root, actions) {
    root.append(el('ul', { id: 'people-list', className: 'people-list' }));
    root.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      const li = b && b.closest('[data-person]');
      if (!li) return;
      const id = li.dataset.person;
      const name = li.dataset.name;
      switch (b.dataset.action) {
        case 'more': {
          const open = li.dataset.open !== 'true';
          li.dataset.open = String(open);
          b.setAttribute('aria-expanded', String(open));
          li.querySelector('.person-more').hidden = !open;
          break;
        }
        case 'mute-audio':
        case 'mute-video':
          actions.send({ type: 'mute_participant', participant: id, kind: b.dataset.action === 'mute-audio' ? 'audio' : 'video', muted: b.dataset.muted !== 'true' });
          break;
        case 'give-floor':
          actions.send(prefs.shareSeconds ? { type: 'give_floor', participant: id, seconds: prefs.shareSeconds } : { type: 'give_floor', participant: id });
          break;
        case 'aside':
          actions.send(b.dataset.active === 'true' ? { type: 'end_aside' } : { type: 'start_aside', participant: id });
          break;
        case 'remove':
          actions.confirm({
            title: `Remove ${name} from the session?`,
            message: `${name} leaves the session at once and is told that a facilitator removed them.`,
            confirmLabel: `Remove ${name}`,
            blockLabel: `Also stop ${name} from joining again during this session`,
          }).then((answer) => {
            if (answer.ok) actions.send({ type: 'remove', participant: id, block: answer.block });
          });
          break;
        default:
      }
    });
  },
  update(root, view) {
    const people = [view.self, ...view.participants].filter(Boolean);
    const ctl = view.ctl;
    root.querySelector('.section-count').textContent = String(people.length);
    const focusLost = syncList(root.querySelector('#people-list'), people, 'person',
      (item) => {
        const you = view.self && item.id === view.self.id;
        const li = el('li', { className: 'person', dataset: { person: item.id } },
          el('span', { className: 'person-text' },
            el('span', { className: 'person-name' }),
            el('span', { className: 'person-meta' })));
        if (!you) {
          li.append(
            el('span', { className: 'person-actions' },
              button({ className: 'btn btn-secondary btn-small', dataset: { action: 'mute-audio' } }),
              button({ className: 'btn btn-quiet btn-small', dataset: { action: 'more' }, 'aria-expanded': 'false', 'aria-controls': `more-${item.id}` })),
            el('div', { id: `more-${item.id}`, className: 'person-more', hidden: true },
              button({ className: 'btn btn-quiet btn-small', dataset: { action: 'mute-video' } }),
              button({ className: 'btn btn-quiet btn-small', dataset: { action: 'give-floor' } }),
              button({ className: 'btn btn-quiet btn-small', dataset: { action: 'aside' } }),
              button({ className: 'btn btn-danger-quiet btn-small', dataset: { action: 'remove' } })));
        }
        return li;
      },
      (li, item) => {
        const you = view.self && item.id === view.self.id;
        const name = item.name || 'Guest';
        li.dataset.name = name;
        li.querySelector('.person-name').textContent = name + (you ? ' (you)' : '');
        const st = ctl ? ctl.byId.get(item.id) : null;
        const enforced = { audio: Boolean(st && st.muted.audio), video: Boolean(st && st.muted.video) };
        const meta = [];
        const role = roleLabel(item.role);
        if (role) meta.push(role);
        if (item.state === 'reconnecting') meta.push('reconnecting');
        if (enforced.audio) meta.push('muted by a facilitator');
        else if (item.muted && item.muted.audio) meta.push('mic off');
        if (enforced.video) meta.push('camera off by a facilitator');
        else if (item.muted && item.muted.video) meta.push('camera off');
        if (ctl && ctl.holder === item.id) meta.push(ctl.round ? 'sharing' : 'has the floor');
        if (ctl && ctl.aside && (ctl.aside.host === item.id || ctl.aside.member === item.id)) meta.push('in a private conversation');
        if (st && st.unmuteRequested && st.unmuteRequested.audio) meta.push('asks to speak');
        li.querySelector('.person-meta').textContent = meta.join(' · ');
        li.dataset.enforcedAudio = String(enforced.audio);
        if (you) return;

        const speaks = item.role !== 'observer';
        const moderate = mayModerate(view.self, item);
        const mute = li.querySelector('[data-action="mute-audio"]');
        mute.hidden = !(speaks && moderate && ctl);
        mute.dataset.muted = String(enforced.audio);
        mute.replaceChildren(enforced.audio ? 'Unmute' : 'Mute', hidden(` ${name}`));
        const more = li.querySelector('[data-action="more"]');
        more.replaceChildren('More', hidden(` for ${name}`));
        const video = li.querySelector('[data-action="mute-video"]');
        video.hidden = !(speaks && moderate && ctl);
        video.dataset.muted = String(enforced.video);
        video.replaceChildren(enforced.video ? 'Allow camera' : 'Turn off camera', hidden(` for ${name}`));
        const floor = li.querySelector('[data-action="give-floor"]');
        floor.hidden = !(speaks && ctl);
        floor.disabled = Boolean(ctl && (ctl.round || ctl.holder === item.id));
        floor.replaceChildren('Give floor', hidden(` to ${name}`));
        const aside = li.querySelector('[data-action="aside"]');
        const inThis = Boolean(ctl && ctl.aside && ctl.aside.member === item.id);
        aside.hidden = !ctl;
        aside.dataset.active = String(inThis);
        aside.disabled = Boolean(ctl && ctl.aside && !inThis);
        aside.replaceChildren(inThis ? 'End private talk' : 'Talk privately', hidden(` with ${name}`));
        const remove = li.querySelector('[data-action="remove"]');
        remove.hidden = !moderate;
        remove.replaceChildren('Remove…', hidden(` ${name}`));
      });
    if (focusLost) root.querySelector('h3').focus();
  },
};

// Raised hands, in queue order, and requests to be unmuted.
const handsSection = {
  id: 'hands',
  title: 'Raised hands',
  mount(root, actions) {
    root.append(
      el('div', { id: 'requests', hidden: true },
        el('p', { className: 'subhead' }, 'Asking to speak'),
        el('ul', { id: 'requests-list', className: 'people-list' })),
      el('ol', { id: 'hands-list', className: 'people-list' }),
      el('p', { id: 'hands-empty', className: 'hint' }, 'No hands are raised.'),
      el('p', { id: 'hands-round-hint', className: 'hint', hidden: true }, 'During a go-around the floor follows the turns.'));
    root.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (!b) return;
      const li = b.closest('[data-hand], [data-request]');
      if (!li) return;
      const id = li.dataset.hand || li.dataset.request;
      switch (b.dataset.action) {
        case 'give-floor':
          actions.send(prefs.shareSeconds ? { type: 'give_floor', participant: id, seconds: prefs.shareSeconds } : { type: 'give_floor', participant: id });
          break;
        case 'lower-hand':
          actions.send({ type: 'lower_hand', participant: id });
          break;
        case 'allow':
          actions.send({ type: 'mute_participant', participant: id, kind: b.dataset.kind, muted: false });
          break;
        case 'decline':
          actions.send({ type: 'decline_unmute', participant: id, kind: b.dataset.kind });
          break;
        default:
      }
    });
  },
  update(root, view) {
    const ctl = view.ctl;
    // Without a room_state the server has no controls to offer.
    root.hidden = !ctl;
    const hands = ctl ? ctl.hands : [];
    root.querySelector('.section-count').textContent = hands.length ? String(hands.length) : '';
    root.querySelector('#hands-empty').hidden = hands.length > 0;
    root.querySelector('#hands-round-hint').hidden = !(ctl && ctl.round && hands.length);
    let focusLost = syncList(root.querySelector('#hands-list'), hands.map((h) => ({ ...h, id: h.participant })), 'hand',
      () => el('li', { className: 'person' },
        el('span', { className: 'queue-pos', 'aria-hidden': 'true' }),
        el('span', { className: 'person-text' }, el('span', { className: 'person-name' }), el('span', { className: 'person-meta' })),
        el('span', { className: 'person-actions' },
          button({ className: 'btn btn-primary btn-small', dataset: { action: 'give-floor' } }),
          button({ className: 'btn btn-quiet btn-small', dataset: { action: 'lower-hand' } }))),
      (li, h) => {
        const name = view.nameOf(h.id);
        const pos = ctl.handPos.get(h.id);
        li.querySelector('.queue-pos').textContent = String(pos);
        li.querySelector('.person-name').replaceChildren(hidden(`${ordinal(pos)}: `), name);
        li.querySelector('.person-meta').textContent = since(h.since, 'raised');
        const give = li.querySelector('[data-action="give-floor"]');
        give.disabled = Boolean(ctl.round);
        give.replaceChildren('Give floor', hidden(` to ${name}`));
        li.querySelector('[data-action="lower-hand"]').replaceChildren('Lower', hidden(` ${name}'s hand`));
      });

    const requests = [];
    for (const p of ctl ? ctl.participants : []) {
      for (const kind of ['audio', 'video']) {
        if (p.unmuteRequested && p.unmuteRequested[kind]) requests.push({ id: `${p.id}:${kind}`, participant: p.id, kind });
      }
    }
    root.querySelector('#requests').hidden = requests.length === 0;
    focusLost = syncList(root.querySelector('#requests-list'), requests, 'requestKey',
      (r) => el('li', { className: 'person', dataset: { requestKey: r.id, request: r.participant } },
        el('span', { className: 'person-text' }, el('span', { className: 'person-name' }), el('span', { className: 'person-meta' })),
        el('span', { className: 'person-actions' },
          button({ className: 'btn btn-primary btn-small', dataset: { action: 'allow', kind: r.kind } }),
          button({ className: 'btn btn-quiet btn-small', dataset: { action: 'decline', kind: r.kind } }))),
      (li, r) => {
        const name = view.nameOf(r.participant);
        li.querySelector('.person-name').textContent = name;
        li.querySelector('.person-meta').textContent = r.kind === 'audio' ? 'would like to be unmuted' : 'would like to turn on their camera';
        li.querySelector('[data-action="allow"]').replaceChildren('Allow', hidden(` ${name}`));
        li.querySelector('[data-action="decline"]').replaceChildren('Not now', hidden(` for ${name}`));
      }) || focusLost;
    if (focusLost) root.querySelector('h3').focus();
  },
};

// Who may be heard: the floor mode, the floor holder and timed shares.
const floorSection = {
  id: 'floor',
  title: 'Speaking',
  mount(root, actions) {
    const radio = (value, label) => el('label', { className: 'segment' },
      el('input', { type: 'radio', name: 'floor-mode', value, id: `floor-${value}` }), el('span', {}, label));
    const mode = el('fieldset', { className: 'segmented' },
      el('legend', {}, 'Who is heard'),
      el('div', { className: 'segments' },
        radio('open', 'Everyone'),
        radio('moderated', 'Only the floor')));
    mode.addEventListener('change', (ev) => {
      if (ev.target.name !== 'floor-mode') return;
      pending.set('floor-mode', actions.version());
      actions.send({ type: 'set_floor_mode', mode: ev.target.value });
    });
    const length = lengthSelect('share-length', prefs.shareSeconds);
    length.addEventListener('change', () => {
      prefs.shareSeconds = Number(length.value);
      actions.refresh();
    });
    root.append(
      el('div', { id: 'floor-now', className: 'now' },
        el('p', { id: 'floor-status' }),
        el('span', { id: 'panel-timer', className: 'timer', dataset: { countdown: '' }, hidden: true })),
      mode,
      el('div', { className: 'field' },
        el('label', { htmlFor: 'share-length' }, 'Length of a share'),
        length),
      el('div', { className: 'button-col' },
        button({ id: 'give-floor-next', className: 'btn btn-primary btn-block' }),
        button({ id: 'set-timer', className: 'btn btn-secondary btn-block' }),
        button({ id: 'take-floor', className: 'btn btn-secondary btn-block' }, 'Take the floor back')));
    root.querySelector('#give-floor-next').addEventListener('click', () => {
      actions.send(prefs.shareSeconds ? { type: 'give_floor', seconds: prefs.shareSeconds } : { type: 'give_floor' });
    });
    root.querySelector('#take-floor').addEventListener('click', () => actions.send({ type: 'take_floor' }));
    root.querySelector('#set-timer').addEventListener('click', () => actions.send({ type: 'set_timer', seconds: prefs.shareSeconds }));
  },
  update(root, view) {
    const ctl = view.ctl;
    root.hidden = !ctl;
    if (!ctl) return;
    if (settled('floor-mode', ctl)) {
      root.querySelector('#floor-open').checked = ctl.mode === 'open';
      root.querySelector('#floor-moderated').checked = ctl.mode === 'moderated';
    }
    let status;
    if (ctl.round) status = `Go-around: ${view.nameOf(ctl.round.current)} is sharing.`;
    else if (ctl.holder) status = `${ctl.isHolder ? 'You have' : `${view.nameOf(ctl.holder)} has`} the floor.`;
    else if (ctl.mode === 'moderated') status = 'Only facilitators are heard until you give someone the floor.';
    else status = 'Everyone who is unmuted can be heard.';
    root.querySelector('#floor-status').textContent = status;
    root.querySelector('#panel-timer').hidden = !(ctl.timer && ctl.holder);
    const next = ctl.hands[0];
    const give = root.querySelector('#give-floor-next');
    give.hidden = Boolean(ctl.round) || !next;
    give.textContent = next
      ? `Give floor to ${view.nameOf(next.participant)}${prefs.shareSeconds ? ` for ${shareLengthLabel(prefs.shareSeconds)}` : ''}`
      : 'Give floor to the next hand';
    const take = root.querySelector('#take-floor');
    take.hidden = !ctl.holder || Boolean(ctl.round);
    const timer = root.querySelector('#set-timer');
    timer.hidden = !ctl.holder;
    timer.textContent = prefs.shareSeconds
      ? `${ctl.timer ? 'Restart' : 'Start'} a ${shareLengthLabel(prefs.shareSeconds).replace('minutes', 'minute')} timer`
      : 'Remove the time limit';
    timer.disabled = !prefs.shareSeconds && !ctl.timer;
  },
};

// Go-around rounds.
const roundSection = {
  id: 'round',
  title: 'Go-around',
  mount(root, actions) {
    const order = el('select', { id: 'round-order', className: 'select' });
    for (const [value, label] of ROUND_ORDERS) order.append(el('option', { value, selected: value === prefs.order }, label));
    order.addEventListener('change', () => { prefs.order = order.value; });
    const length = lengthSelect('turn-length', prefs.turnSeconds);
    length.addEventListener('change', () => { prefs.turnSeconds = Number(length.value); });
    root.append(
      el('div', { id: 'round-setup' },
        el('p', { className: 'hint' }, 'Each member gets a turn to share or pass. Only the person whose turn it is, and facilitators, are heard.'),
        el('div', { className: 'field' }, el('label', { htmlFor: 'round-order' }, 'Order'), order),
        el('div', { className: 'field' }, el('label', { htmlFor: 'turn-length' }, 'Length of each turn'), length),
        button({ id: 'start-round', className: 'btn btn-primary btn-block' }, 'Start the go-around')),
      el('div', { id: 'round-running', hidden: true },
        el('ol', { id: 'round-turns', className: 'turn-list' }),
        el('div', { className: 'button-col' },
          button({ id: 'next-turn', className: 'btn btn-primary btn-block' }, 'Next person'),
          button({ id: 'skip-turn', className: 'btn btn-secondary btn-block' }),
          button({ id: 'end-round', className: 'btn btn-quiet btn-block' }, 'End the go-around'))));
    root.querySelector('#start-round').addEventListener('click', () => {
      const msg = { type: 'start_round', order: prefs.order };
      if (prefs.turnSeconds) msg.seconds = prefs.turnSeconds;
      actions.send(msg);
    });
    root.querySelector('#next-turn').addEventListener('click', () => actions.send({ type: 'next_turn' }));
    root.querySelector('#skip-turn').addEventListener('click', () => actions.send({ type: 'skip' }));
    root.querySelector('#end-round').addEventListener('click', () => actions.send({ type: 'end_round' }));
    root.querySelector('#round-turns').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action="skip"]');
      const li = b && b.closest('[data-turn]');
      if (li) actions.send({ type: 'skip', participant: li.dataset.turn });
    });
  },
  update(root, view) {
    const ctl = view.ctl;
    root.hidden = !ctl;
    if (!ctl) return;
    const round = ctl.round;
    root.querySelector('#round-setup').hidden = Boolean(round);
    root.querySelector('#round-running').hidden = !round;
    const members = ctl.participants.filter((p) => p.role === 'member').length;
    const start = root.querySelector('#start-round');
    start.disabled = members === 0;
    root.querySelector('.section-count').textContent = round ? 'on' : '';
    if (!round) return;
    const turns = round.turns.map((t) => ({ ...t, id: t.participant }));
    const focusLost = syncList(root.querySelector('#round-turns'), turns, 'turn',
      () => el('li', { className: 'turn' },
        el('span', { className: 'person-text' }, el('span', { className: 'person-name' }), el('span', { className: 'person-meta' })),
        button({ className: 'btn btn-quiet btn-small', dataset: { action: 'skip' } })),
      (li, t) => {
        const name = view.nameOf(t.id);
        const next = round.next === t.id;
        li.dataset.status = t.status;
        li.querySelector('.person-name').textContent = name;
        li.querySelector('.person-meta').textContent = next ? 'next' : TURN_STATUS[t.status] || t.status;
        const skip = li.querySelector('[data-action="skip"]');
        skip.hidden = t.status !== 'pending';
        skip.replaceChildren('Skip', hidden(` ${name}`));
        if (t.status === 'speaking') li.setAttribute('aria-current', 'step');
        else li.removeAttribute('aria-current');
      });
    const skipCurrent = root.querySelector('#skip-turn');
    skipCurrent.replaceChildren(`Skip ${view.nameOf(round.current)}`);
    if (focusLost) root.querySelector('h3').focus();
  },
};

// Microphones: everyone at once, and the policies.
const micsSection = {
  id: 'mics',
  title: 'Microphones',
  mount(root, actions) {
    const check = (id, label) => el('label', { className: 'check' }, el('input', { type: 'checkbox', id }), ` ${label}`);
    const returnSelect = el('select', { id: 'policy-floor-return', className: 'select' },
      el('option', { value: 'facilitator' }, 'The floor returns to facilitators'),
      el('option', { value: 'next' }, 'The next raised hand gets the floor'));
    root.append(
      el('div', { className: 'button-row' },
        button({ id: 'mute-all', className: 'btn btn-secondary btn-small' }, 'Mute all members'),
        button({ id: 'unmute-all', className: 'btn btn-quiet btn-small' }, 'Unmute all')),
      el('fieldset', { className: 'checks' },
        el('legend', { className: 'visually-hidden' }, 'Microphone rules'),
        check('policy-self-unmute', 'Members may unmute themselves'),
        check('policy-join-muted', 'Members join muted')),
      el('div', { className: 'field' },
        el('label', { htmlFor: 'policy-floor-return' }, 'When a timed share ends'),
        returnSelect));
    root.querySelector('#mute-all').addEventListener('click', () => actions.send({ type: 'mute_all', kind: 'audio', muted: true }));
    root.querySelector('#unmute-all').addEventListener('click', () => actions.send({ type: 'mute_all', kind: 'audio', muted: false }));
    const policy = (id, field, value) => {
      pending.set(id, actions.version());
      actions.send({ type: 'set_policy', [field]: value });
    };
    root.querySelector('#policy-self-unmute').addEventListener('change', (ev) => policy('policy-self-unmute', 'selfUnmute', ev.target.checked));
    root.querySelector('#policy-join-muted').addEventListener('change', (ev) => policy('policy-join-muted', 'joinMuted', ev.target.checked));
    returnSelect.addEventListener('change', () => policy('policy-floor-return', 'floorReturn', returnSelect.value));
  },
  update(root, view) {
    const ctl = view.ctl;
    root.hidden = !ctl;
    if (!ctl) return;
    if (settled('policy-self-unmute', ctl)) root.querySelector('#policy-self-unmute').checked = Boolean(ctl.policy.selfUnmute);
    if (settled('policy-join-muted', ctl)) root.querySelector('#policy-join-muted').checked = Boolean(ctl.policy.joinMuted);
    if (settled('policy-floor-return', ctl)) root.querySelector('#policy-floor-return').value = ctl.policy.floorReturn === 'next' ? 'next' : 'facilitator';
  },
};

// Talk time, least heard first, so facilitators notice who has not spoken.
const talkSection = {
  id: 'talk',
  title: 'Talk time',
  mount(root) {
    root.append(
      el('p', { className: 'hint' }, 'Least heard first.'),
      el('ol', { id: 'talk-time-list', className: 'talk-list' }));
  },
  update(root, view) {
    const entries = (view.talkTime || []).map((e) => ({ ...e, id: e.participant }));
    root.hidden = entries.length === 0;
    const most = Math.max(1, ...entries.map((e) => e.speakingMs || 0));
    syncList(root.querySelector('#talk-time-list'), entries, 'talk',
      () => el('li', { className: 'talk' },
        el('span', { className: 'talk-name' }),
        el('span', { className: 'talk-amount' }),
        el('span', { className: 'talk-bar', 'aria-hidden': 'true' }, el('span'))),
      (li, e) => {
        li.querySelector('.talk-name').textContent = e.name || view.nameOf(e.id);
        li.querySelector('.talk-amount').textContent = e.speakingMs ? duration(e.speakingMs) : 'not heard yet';
        li.querySelector('.talk-bar').style.setProperty('--share', String((e.speakingMs || 0) / most));
      });
  },
};

function waitingSince(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'waiting';
  const minutes = Math.floor((Date.now() - t) / 60_000);
  if (minutes < 1) return 'waiting, just arrived';
  const time = new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  return `waiting since ${time}`;
}

export const sections = [waitingSection, handsSection, floorSection, roundSection, peopleSection, talkSection, micsSection, roomSection];

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
