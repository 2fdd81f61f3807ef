// The facilitator panel's sections about people: who is waiting, raised
// hands and requests to be unmuted, and everyone in the room.

import { el, hidden, button, prefs, syncList } from './facilitator-kit.js';
import { roleLabel, ordinal } from './text.js';

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

function waitingSince(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'waiting';
  const minutes = Math.floor((Date.now() - t) / 60_000);
  if (minutes < 1) return 'waiting, just arrived';
  const time = new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  return `waiting since ${time}`;
}

const RANK = { facilitator: 4, 'co-facilitator': 3, cofacilitator: 3, member: 2, observer: 1 };

// mayModerate reports whether the person at this browser may mute or remove
// target: nobody of a higher role. Ranks are by one's own role: a member
// facilitating in a facilitator's place (ctl.facilitation) acts on members
// and observers only, and is acted on as a member.
function mayModerate(self, target, ctl) {
  const handed = ctl && ctl.facilitation ? ctl.facilitation.participant : '';
  const rank = target.id === handed ? RANK.member : (RANK[target.role] || 0);
  if (self && self.id === handed) return rank <= RANK.member;
  return rank <= (RANK[self && self.role] || 0);
}

export const waitingSection = {
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

// personAction does one thing to one person, from the list or from the
// menu on their tile: on is true when the thing is on now (muted, in an
// aside with us), so that the action turns it off.
export function personAction(actions, action, id, name, on) {
  switch (action) {
    case 'mute-audio':
    case 'mute-video':
      actions.send({ type: 'mute_participant', participant: id, kind: action === 'mute-audio' ? 'audio' : 'video', muted: !on });
      break;
    case 'give-floor':
      actions.send(prefs.shareSeconds ? { type: 'give_floor', participant: id, seconds: prefs.shareSeconds } : { type: 'give_floor', participant: id });
      break;
    case 'aside':
      actions.send(on ? { type: 'end_aside' } : { type: 'start_aside', participant: id });
      break;
    case 'allow-screen':
      actions.send({ type: 'allow_screen_share', participant: id, allowed: !on });
      break;
    case 'stop-screen':
      actions.send({ type: 'stop_screen_share', participant: id });
      break;
    case 'facilitation':
      if (on) {
        actions.send({ type: 'take_back_facilitation' });
        break;
      }
      actions.confirm({
        title: `Hand the facilitator role to ${name}?`,
        message: `For this session ${name} can run go-arounds, give the floor, mute members and let people in. Co-facilitators keep their role, and you can take it back at any time.`,
        confirmLabel: `Hand it to ${name}`,
      }).then((answer) => {
        if (answer.ok) actions.send({ type: 'hand_facilitation', participant: id });
      });
      break;
    case 'side-room':
      actions.send(on ? { type: 'end_side_room', participant: id } : { type: 'start_side_room', participants: [id] });
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
}

// personMenu lists what a facilitator may do to one person now, as
// [{action, label, on}], for the menu on their tile.
export function personMenu(view, id) {
  const ctl = view.ctl;
  const p = view.participants.find((x) => x.id === id);
  if (!ctl || !p || !view.self || id === view.self.id) return [];
  const st = ctl.byId.get(id);
  const name = p.name || 'Guest';
  const speaks = p.role !== 'observer';
  const out = [];
  if (speaks && mayModerate(view.self, p, ctl)) {
    const audio = Boolean(st && st.muted.audio);
    const video = Boolean(st && st.muted.video);
    out.push({ action: 'mute-audio', on: audio, label: audio ? `Unmute ${name}` : `Mute ${name}` });
    out.push({ action: 'mute-video', on: video, label: video ? `Allow ${name}'s camera` : `Turn off ${name}'s camera` });
  }
  const side = ctl.sideRoom;
  const inSide = ctl.inSide(id);
  if (speaks && !ctl.round && ctl.holder !== id && !inSide) out.push({ action: 'give-floor', on: false, label: `Give the floor to ${name}` });
  const inThis = Boolean(ctl.aside && ctl.aside.member === id);
  if (!inSide && !ctl.inSideRoom && (inThis || !ctl.aside)) out.push({ action: 'aside', on: inThis, label: inThis ? `End private talk with ${name}` : `Talk privately with ${name}` });
  // The side room: one's own, to take people to; anyone's, to bring them back.
  if (inSide) out.push({ action: 'side-room', on: true, label: `Bring ${name} back to the group` });
  else if (speaks && (!side || side.host === view.self.id)) out.push({ action: 'side-room', on: false, label: `Take ${name} to a side room` });
  // The facilitator role, for the session: a facilitator hands it to a
  // member; facilitators and co-facilitators take it back.
  const handed = ctl.facilitation ? ctl.facilitation.participant : '';
  const ownRight = view.self.id !== handed;
  if (handed === id && ownRight) out.push({ action: 'facilitation', on: true, label: `Take the facilitator role back from ${name}` });
  else if (!handed && p.role === 'member' && view.self.role === 'facilitator' && ownRight) {
    out.push({ action: 'facilitation', on: false, label: `Hand the facilitator role to ${name}` });
  }
  const sharing = Boolean(ctl.screenShare && ctl.screenShare.participant === id);
  if (sharing) out.push({ action: 'stop-screen', on: true, label: `Stop ${name}'s screen share` });
  if (p.role === 'member') {
    const may = Boolean(st && st.canShareScreen);
    out.push({ action: 'allow-screen', on: may, label: may ? `Stop letting ${name} share their screen` : `Let ${name} share their screen` });
  }
  if (mayModerate(view.self, p, ctl)) out.push({ action: 'remove', on: false, label: `Remove ${name}…`, danger: true });
  return out;
}

export const peopleSection = {
  id: 'people',
  title: 'In the room',
  mount(root, actions) {
    root.append(
      el('ul', { id: 'people-list', className: 'people-list' }),
      el('div', { className: 'button-row mute-all-row' },
        button({ id: 'mute-all', className: 'btn btn-secondary btn-small' }, 'Mute all members'),
        button({ id: 'unmute-all', className: 'btn btn-quiet btn-small' }, 'Unmute all')));
    root.querySelector('#mute-all').addEventListener('click', () => actions.send({ type: 'mute_all', kind: 'audio', muted: true }));
    root.querySelector('#unmute-all').addEventListener('click', () => actions.send({ type: 'mute_all', kind: 'audio', muted: false }));
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
        default:
          personAction(actions, b.dataset.action, id, name, b.dataset.muted === 'true' || b.dataset.active === 'true');
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
        else if (item.weak) meta.push('weak connection');
        const inAside = Boolean(ctl && ctl.aside && (ctl.aside.host === item.id || ctl.aside.member === item.id));
        const inSide = Boolean(ctl && ctl.inSide(item.id));
        // In an aside the two hear each other, whatever the mute says.
        if (enforced.audio && !inAside && !inSide) meta.push('muted by a facilitator');
        else if (item.muted && item.muted.audio) meta.push('mic off');
        else if (st && st.audible === false && !inAside && ctl && ctl.moderated && item.role === 'member') meta.push('not heard now');
        if (enforced.video) meta.push('camera off by a facilitator');
        else if (item.muted && item.muted.video) meta.push('camera off');
        if (ctl && ctl.holder === item.id) meta.push(ctl.round ? 'sharing' : 'has the floor');
        if (inAside) meta.push(view.self && (ctl.aside.host === view.self.id || ctl.aside.member === view.self.id) && !you ? 'talking privately with you' : 'in a private conversation');
        if (inSide) meta.push('in the side room');
        if (st && st.unmuteRequested && st.unmuteRequested.audio) meta.push('asks to speak');
        li.querySelector('.person-meta').textContent = meta.join(' · ');
        li.dataset.enforcedAudio = String(enforced.audio);
        if (you) return;

        const speaks = item.role !== 'observer';
        const moderate = mayModerate(view.self, item, ctl);
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
        floor.disabled = Boolean(ctl && (ctl.round || ctl.holder === item.id || inSide));
        floor.replaceChildren('Give floor', hidden(` to ${name}`));
        const aside = li.querySelector('[data-action="aside"]');
        const inThis = Boolean(ctl && ctl.aside && ctl.aside.member === item.id);
        aside.hidden = !ctl;
        aside.dataset.active = String(inThis);
        aside.disabled = Boolean(ctl && ((ctl.aside && !inThis) || inSide || ctl.inSideRoom));
        aside.replaceChildren(inThis ? 'End private talk' : 'Talk privately', hidden(` with ${name}`));
        const remove = li.querySelector('[data-action="remove"]');
        remove.hidden = !moderate;
        remove.replaceChildren('Remove…', hidden(` ${name}`));
      });
    if (focusLost) root.querySelector('h3').focus();
  },
};

// Raised hands, in queue order, and requests to be unmuted.
export const handsSection = {
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
