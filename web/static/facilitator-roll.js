// The facilitator panel's roll: who on the group's list is not here, and
// who has accepted the group agreement (the roll message, which only
// facilitators and co-facilitators get).

import { el, syncList } from './facilitator-kit.js';
import { roleLabel } from './text.js';

// when says when an acceptance was made: the time today, else the day.
function when(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  if (d.toDateString() === new Date().toDateString()) {
    return `at ${d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}`;
  }
  return `on ${d.toLocaleDateString([], { day: 'numeric', month: 'short' })}`;
}

const STATE_WORDS = { present: 'here', waiting: 'waiting', missing: 'not here' };

// meta says where a person is and where they stand with the agreement.
function meta(p, agreement) {
  const parts = [];
  if (p.role && p.role !== 'member') parts.push(roleLabel(p.role));
  parts.push(STATE_WORDS[p.state] || p.state);
  if (agreement) {
    if (p.role === 'facilitator' || p.role === 'co-facilitator') parts.push('not asked to accept');
    else if (p.acceptedAt) parts.push(`accepted the agreement ${when(p.acceptedAt)}`);
    else parts.push(agreement === 'session' ? 'has not accepted this session' : 'has not accepted yet');
  }
  return parts.join(' · ');
}

// summary says in one sentence who is missing and how many have accepted.
function summary(roll) {
  const people = roll.people || [];
  const missing = people.filter((p) => p.state === 'missing').length;
  const out = [];
  if (missing === 1) out.push('1 person on the list is not here.');
  else if (missing > 1) out.push(`${missing} people on the list are not here.`);
  if (roll.agreement) {
    const asked = people.filter((p) => p.role !== 'facilitator' && p.role !== 'co-facilitator');
    const accepted = asked.filter((p) => p.acceptedAt).length;
    out.push(`${accepted} of ${asked.length} ${accepted === 1 ? 'has' : 'have'} accepted the agreement${roll.agreement === 'session' ? ' this session' : ''}.`);
  }
  return out.join(' ');
}

export const rollSection = {
  id: 'roll',
  title: 'Who is expected',
  mount(root) {
    root.append(
      el('p', { id: 'roll-summary', className: 'hint roll-summary' }),
      el('ul', { id: 'roll-list', className: 'people-list roll-list' }));
  },
  update(root, view) {
    const roll = view.roll;
    const people = roll && Array.isArray(roll.people) ? roll.people : [];
    // Nothing to show without a list or an agreement (a drop-in room).
    const show = Boolean(roll && (roll.agreement || people.some((p) => p.state === 'missing')));
    root.hidden = !show;
    if (!show) return;
    const missing = people.filter((p) => p.state === 'missing').length;
    root.querySelector('.section-count').textContent = missing ? String(missing) : '';
    root.querySelector('#roll-summary').textContent = summary(roll);
    // The people not here first, then those here, each in the list's order.
    const order = { missing: 0, waiting: 1, present: 2 };
    const items = people.map((p, i) => ({ ...p, id: p.identity, i }))
      .sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || a.i - b.i);
    syncList(root.querySelector('#roll-list'), items, 'roll',
      () => el('li', { className: 'person' },
        el('span', { className: 'person-text' },
          el('span', { className: 'person-name' }),
          el('span', { className: 'person-meta' }))),
      (li, p) => {
        li.dataset.state = p.state;
        li.dataset.accepted = String(Boolean(p.acceptedAt));
        li.querySelector('.person-name').textContent = p.name || p.identity;
        li.querySelector('.person-meta').textContent = meta(p, roll.agreement);
      });
  },
};
