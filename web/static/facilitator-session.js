// The facilitator panel's sections about how the session runs: the floor
// and timed shares, the go-around, talk time, microphone rules, and the room
// itself (lock, end).

import { el, hidden, button, prefs, pending, settled, syncList } from './facilitator-kit.js';
import { SHARE_LENGTHS, shareLengthLabel, TURN_STATUS, ROUND_ORDERS, duration } from './text.js';

function lengthSelect(id, value) {
  const select = el('select', { id, className: 'select' });
  for (const s of SHARE_LENGTHS) select.append(el('option', { value: String(s), selected: s === value }, shareLengthLabel(s)));
  return select;
}

// Who may be heard: the floor mode, the floor holder and timed shares.
export const floorSection = {
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
export const roundSection = {
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

// Microphone rules (muting everyone is with the people).
export const micsSection = {
  id: 'mics',
  title: 'Microphone rules',
  mount(root, actions) {
    const check = (id, label) => el('label', { className: 'check' }, el('input', { type: 'checkbox', id }), ` ${label}`);
    const endSelect = el('select', { id: 'policy-share-end', className: 'select' },
      el('option', { value: 'stop' }, 'The share ends'),
      el('option', { value: 'finish' }, 'The speaker may finish'));
    const returnSelect = el('select', { id: 'policy-floor-return', className: 'select' },
      el('option', { value: 'facilitator' }, 'The floor returns to facilitators'),
      el('option', { value: 'next' }, 'The next raised hand gets the floor'));
    root.append(
      el('fieldset', { className: 'checks' },
        el('legend', { className: 'visually-hidden' }, 'Microphone rules'),
        check('policy-self-unmute', 'Members may unmute themselves'),
        check('policy-join-muted', 'Members join muted')),
      el('div', { className: 'field' },
        el('label', { htmlFor: 'policy-share-end' }, "When a share's time is up"),
        endSelect),
      el('div', { className: 'field' },
        el('label', { htmlFor: 'policy-floor-return' }, 'When a timed share ends'),
        returnSelect));
    const policy = (id, field, value) => {
      pending.set(id, actions.version());
      actions.send({ type: 'set_policy', [field]: value });
    };
    root.querySelector('#policy-self-unmute').addEventListener('change', (ev) => policy('policy-self-unmute', 'selfUnmute', ev.target.checked));
    root.querySelector('#policy-join-muted').addEventListener('change', (ev) => policy('policy-join-muted', 'joinMuted', ev.target.checked));
    returnSelect.addEventListener('change', () => policy('policy-floor-return', 'floorReturn', returnSelect.value));
    endSelect.addEventListener('change', () => policy('policy-share-end', 'shareEnd', endSelect.value));
  },
  update(root, view) {
    const ctl = view.ctl;
    root.hidden = !ctl;
    if (!ctl) return;
    if (settled('policy-self-unmute', ctl)) root.querySelector('#policy-self-unmute').checked = Boolean(ctl.policy.selfUnmute);
    if (settled('policy-join-muted', ctl)) root.querySelector('#policy-join-muted').checked = Boolean(ctl.policy.joinMuted);
    if (settled('policy-floor-return', ctl)) root.querySelector('#policy-floor-return').value = ctl.policy.floorReturn === 'next' ? 'next' : 'facilitator';
    if (settled('policy-share-end', ctl)) root.querySelector('#policy-share-end').value = ctl.policy.shareEnd === 'finish' ? 'finish' : 'stop';
  },
};

// Talk time, least heard first, so facilitators notice who has not spoken.
export const talkSection = {
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

export const roomSection = {
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
