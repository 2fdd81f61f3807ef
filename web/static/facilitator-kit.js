// What the facilitator panel's sections share: building elements, keeping a
// list in step with the state, the panel's own choices (prefs), and toggles
// that wait for the server (pending).

export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
};

// hidden is text for screen readers only; button is a type="button".
export const hidden = (text) => el('span', { className: 'visually-hidden' }, text);
export const button = (props, ...children) => el('button', { type: 'button', ...props }, ...children);

// Choices made in the panel that are not room state: the length of the next
// share and of each turn, and the order of the next go-around.
export const prefs = { shareSeconds: 0, turnSeconds: 0, order: 'join' };

// A toggle the person just changed keeps its new value until a newer
// room_state arrives (or the server refuses), so it does not flicker back.
export const pending = new Map(); // control id -> room_state version when changed

export function settled(id, ctl) {
  if (!pending.has(id)) return true;
  if (!ctl || ctl.version !== pending.get(id)) {
    pending.delete(id);
    return true;
  }
  return false;
}

// clearPending forgets the toggles waiting for the server; messages.js
// calls it when a control command is refused.
export function clearPending() {
  pending.clear();
}

// syncList makes the <ul> show one <li> per item, keyed by item.id, reusing
// existing items so that keyboard focus stays where it was.
export function syncList(ul, items, attr, create, update) {
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
