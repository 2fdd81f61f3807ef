// The menu on a person's tile: pinning them, for everyone; for
// facilitators also mute, camera, the floor, a private talk and removal,
// reached from the person themselves rather than from the panel. A menu button per tile (ui.js draws it) opens one
// shared menu; arrow keys move in it, Escape and Tab close it.

import { personMenu, personAction } from './facilitator-people.js';
import { pinnedId, togglePin } from './view.js';
import { $ } from './ui.js';

let opener = null; // the tile button that opened the menu

// openTileMenu opens the menu of participant id next to button. view is
// the panel's view ({ctl, participants, self}); actions sends commands;
// facilitator adds the facilitator's controls to pinning, which is
// everyone's.
export function openTileMenu(button, id, view, actions, facilitator) {
  const menu = $('tile-menu');
  const p = view.participants.find((x) => x.id === id);
  const name = (p && p.name) || 'Guest';
  const pinned = pinnedId() === id;
  const items = [{ action: 'pin', on: pinned, label: pinned ? `Unpin ${name}` : `Pin ${name}` }];
  if (facilitator) items.push(...personMenu(view, id));
  closeTileMenu(false);
  menu.setAttribute('aria-label', `Options for ${name}`);
  menu.replaceChildren(...items.map((it) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = it.danger ? 'menu-item menu-danger' : 'menu-item';
    b.setAttribute('role', 'menuitem');
    b.dataset.action = it.action;
    b.textContent = it.label;
    b.addEventListener('click', () => {
      closeTileMenu(true);
      if (it.action === 'pin') togglePin(id);
      else personAction(actions, it.action, id, name, it.on);
    });
    return b;
  }));
  menu.hidden = false;
  opener = button;
  button.setAttribute('aria-expanded', 'true');
  place(menu, button.getBoundingClientRect());
  menu.querySelector('[role="menuitem"]').focus();
}

// closeTileMenu closes the menu, giving focus back to its button when
// refocus is true.
export function closeTileMenu(refocus) {
  const menu = $('tile-menu');
  if (menu.hidden) return;
  menu.hidden = true;
  if (opener) {
    opener.setAttribute('aria-expanded', 'false');
    if (refocus && document.contains(opener)) opener.focus();
  }
  opener = null;
}

// place puts the menu under the button (or above it when there is no room
// below), inside the window.
function place(menu, r) {
  const w = menu.offsetWidth;
  const h = menu.offsetHeight;
  const left = Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8));
  const below = r.bottom + 4;
  const top = below + h <= window.innerHeight - 8 ? below : Math.max(8, r.top - h - 4);
  menu.style.setProperty('left', `${Math.round(left)}px`);
  menu.style.setProperty('top', `${Math.round(top)}px`);
}

export function wireTileMenu() {
  const menu = $('tile-menu');
  menu.addEventListener('keydown', (ev) => {
    const items = [...menu.querySelectorAll('[role="menuitem"]')];
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = (i + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      items[next].focus();
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      items[ev.key === 'Home' ? 0 : items.length - 1].focus();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      closeTileMenu(true);
    } else if (ev.key === 'Tab') {
      closeTileMenu(false);
    }
  });
  document.addEventListener('pointerdown', (ev) => {
    if (!menu.hidden && !menu.contains(ev.target) && ev.target !== opener) closeTileMenu(false);
  });
}
