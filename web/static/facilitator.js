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
//
// The sections are in facilitator-people.js, facilitator-roll.js and
// facilitator-session.js;
// what they share (elements, lists, prefs, pending toggles) is in
// facilitator-kit.js.

import { el } from './facilitator-kit.js';
import { waitingSection, peopleSection, handsSection } from './facilitator-people.js';
import { rollSection } from './facilitator-roll.js';
import {
  floorSection, roundSection, micsSection, talkSection, roomSection,
} from './facilitator-session.js';

export { clearPending } from './facilitator-kit.js';

// People first (who waits, who asks, who is here), then how the session
// runs; ending the session last, far from everyday controls.
export const sections = [waitingSection, handsSection, peopleSection, rollSection, floorSection, roundSection, talkSection, micsSection, roomSection];

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
