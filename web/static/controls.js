// What the facilitator controls state means for the person at this browser
// (PROTOCOL.md, "Facilitator controls and turn-taking"): who may be heard,
// whose turn it is, the raised hands, the private aside, the side room, and
// whether the
// group hears oneself now. messages.js keeps the newest room_state; this
// module turns it into a view and into words to announce when it changes;
// strip.js draws it above the video grid.

import { isFacilitator, roleLabel } from './text.js';

// makeView derives everything the page shows from one room_state.
// receivedAt is performance.now() when the state arrived, for the countdown;
// room is the room's information from joined (its peerLed setting).
// Returns null when there is no state yet.
export function makeView(state, receivedAt, selfId, selfRole, room) {
  if (!state) return null;
  const byId = new Map((state.participants || []).map((p) => [p.id, p]));
  const floor = state.floor || { mode: 'open' };
  const hands = Array.isArray(state.hands) ? state.hands : [];
  const handPos = new Map(hands.map((h, i) => [h.participant, i + 1]));
  const round = state.round || null;
  const aside = state.aside || null;
  const side = state.sideRoom || null;
  const facilitation = state.facilitation || null;
  const inSide = (id) => Boolean(side && (side.host === id || (side.participants || []).includes(id)));
  const me = byId.get(selfId) || null;
  const policy = state.policy || { selfUnmute: false, joinMuted: false, floorReturn: 'facilitator', shareEnd: 'stop' };
  const role = (me && me.role) || selfRole;
  const isFac = isFacilitator(role);
  const timer = floor.timer
    ? { seconds: floor.timer.seconds, deadline: receivedAt + Math.max(0, floor.timer.remainingMs || 0) }
    : null;
  const holder = floor.holder || (round ? round.current : '') || '';
  const inAside = Boolean(aside && (aside.host === selfId || aside.member === selfId));
  const flags = (m) => ({ audio: Boolean(m && m.audio), video: Boolean(m && m.video) });
  const enforced = flags(me && me.muted);
  const isHolder = Boolean(holder) && holder === selfId;
  return {
    version: state.version,
    ended: Boolean(state.ended),
    change: state.change || null,
    policy,
    mode: floor.mode === 'moderated' ? 'moderated' : 'open',
    moderated: floor.mode === 'moderated' || Boolean(round),
    byId,
    participants: state.participants || [],
    hands,
    handPos,
    holder,
    timer,
    round,
    aside,
    screenShare: state.screenShare || null,
    selfId,
    me,
    isFac,
    enforced,
    requested: flags(me && me.unmuteRequested),
    isHolder,
    myTurn: Boolean(round && round.current === selfId),
    imNext: Boolean(round && round.next === selfId),
    inAside,
    asidePeer: inAside ? (aside.host === selfId ? aside.member : aside.host) : '',
    // The side room: its host and those taken there see and hear only
    // each other.
    sideRoom: side,
    inSide,
    inSideRoom: inSide(selfId),
    // The facilitator role handed to a member for the session.
    facilitation,
    acting: Boolean(facilitation && facilitation.participant === selfId),
    // A peer-led room with nobody facilitating: members run hands and
    // go-arounds among themselves.
    peersLead: Boolean(room && room.peerLed === 'members') && role === 'member'
      && !(state.participants || []).some((p) => isFacilitator(p.role)),
    canSelfUnmute: isFac || Boolean(policy.selfUnmute),
  };
}

// silencedByFacilitator reports whether a facilitator's mute of kind keeps
// the person at this browser from being heard (or seen) right now: the floor
// the aside and the side room lift an audio mute while they last.
export function silencedByFacilitator(v, kind) {
  if (!v || !v.enforced[kind]) return false;
  if (kind === 'audio' && (v.isHolder || v.inAside || v.inSideRoom)) return false;
  return true;
}

// silencedByFloor reports whether the moderated floor or a round keeps the
// person from being heard.
export function silencedByFloor(v) {
  return Boolean(v && v.moderated && !v.isHolder && !v.isFac && !v.inAside && !v.inSideRoom);
}

// selfGate says what, other than one's own mute, keeps the group from
// hearing the person at this browser now: 'round' (a go-around, not their
// turn), 'floor' (someone else has the moderated floor, or the server says
// they are not heard for a reason of its own), 'muted' (a facilitator's
// mute) or '' (nothing: they are heard when their microphone is on). The
// server's `audible` is the truth; the rules only say why.
export function selfGate(v) {
  if (!v || !v.me || v.me.role === 'observer' || v.inAside || v.inSideRoom) return '';
  if (silencedByFloor(v)) return v.round ? 'round' : 'floor';
  if (silencedByFacilitator(v, 'audio')) return 'muted';
  const selfMuted = Boolean(v.me.selfMuted && v.me.selfMuted.audio);
  if (v.me.audible === false && !selfMuted) return 'floor';
  return '';
}

// gateSentence says selfGate in words for the person: why they cannot be
// heard now, or '' when they can.
export function gateSentence(v, nameOf) {
  switch (selfGate(v)) {
    case 'round':
      return v.imNext
        ? "You can't be heard right now: it is someone else's turn. You are next."
        : "You can't be heard right now: it is someone else's turn in the go-around.";
    case 'floor':
      return v.holder
        ? `${nameOf(v.holder)} has the floor — you can't be heard right now.`
        : "The facilitator has the floor — you can't be heard right now.";
    case 'muted':
      return 'The facilitator muted your microphone — you can\'t be heard right now.';
    default:
      return '';
  }
}

// tileFacts says what a participant's tile shows beyond name and media.
export function tileFacts(v, id) {
  if (!v) return {};
  const p = v.byId.get(id);
  const inAside = Boolean(v.aside && (v.aside.host === id || v.aside.member === id));
  const inSide = v.inSide(id);
  return {
    hand: v.handPos.get(id) || 0,
    floor: !v.round && v.holder === id,
    turn: v.round ? (v.round.current === id ? 'current' : v.round.next === id ? 'next' : '') : '',
    aside: inAside,
    // Seen from the group: "With the co-facilitator", not a departure.
    sideRoom: inSide && !v.inSideRoom ? sideRoomLabel(v, id) : '',
    enforcedAudio: Boolean(p && p.muted && p.muted.audio),
    enforcedVideo: Boolean(p && p.muted && p.muted.video),
    // The group does not hear them; people in an aside are heard by each
    // other, which the aside badge says.
    unheard: Boolean(p) && p.audible === false && !inAside && !inSide,
    requested: Boolean(p && p.unmuteRequested && p.unmuteRequested.audio),
    role: p ? p.role : '',
  };
}

// sideRoomLabel says, for the group, where someone in the side room is.
function sideRoomLabel(v, id) {
  if (v.sideRoom.host === id) return 'In a side room';
  const host = v.byId.get(v.sideRoom.host);
  const role = host ? roleLabel(host.role).toLowerCase() : '';
  return role ? `With the ${role}` : 'In a side room';
}

// sideRoomSentence says who is in the side room, for the person at this
// browser: inside it, with whom and that the group cannot see or hear
// them; in the group, who is with whom.
export function sideRoomSentence(v, nameOf) {
  const side = v && v.sideRoom;
  if (!side) return '';
  const names = (ids) => {
    const n = ids.map(nameOf);
    return n.length <= 1 ? n.join('') : `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`;
  };
  const members = side.participants || [];
  if (v.inSideRoom) {
    const others = [side.host, ...members].filter((id) => id !== v.selfId);
    return `You are in a side room with ${names(others)} — the group cannot see or hear you.`;
  }
  const host = v.byId.get(side.host);
  const role = host ? roleLabel(host.role).toLowerCase() : '';
  const with_ = role ? `the ${role}, ${nameOf(side.host)}` : nameOf(side.host);
  return `${names(members)} ${members.length === 1 ? 'is' : 'are'} with ${with_}, in a side room.`;
}

// announcements returns the sentences to say when the state moves from
// prev to next (either may be null), for the person at this browser.
export function announcements(prev, next, nameOf) {
  if (!next) return [];
  const out = [];
  const me = next.selfId;
  const name = (id) => (id === me ? 'you' : nameOf(id));
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const by = next.change && next.change.by;
  const change = next.change ? next.change.kind : '';

  if (!prev) {
    // The first state after joining: say only what limits us.
    if (silencedByFacilitator(next, 'audio')) {
      out.push(next.canSelfUnmute
        ? 'Your microphone is muted by the facilitator. You can unmute when you are ready.'
        : 'Your microphone is muted by the facilitator. Use the Ask to speak button when you would like to talk.');
    }
    if (next.round) out.push(`A go-around is in progress. ${cap(name(next.round.current))} ${next.round.current === me ? 'are' : 'is'} sharing.`);
    else if (next.holder && !next.isHolder) out.push(`${nameOf(next.holder)} has the floor.`);
    return out;
  }

  // Go-around.
  if (!prev.round && next.round) {
    out.push('A go-around has started.');
    if (next.myTurn) out.push("It's your turn. Others can hear you.");
    else {
      out.push(`${nameOf(next.round.current)} goes first.`);
      if (next.imNext) out.push('You are next.');
    }
  } else if (prev.round && !next.round) {
    out.push('The go-around has ended.');
  } else if (prev.round && next.round) {
    if (prev.round.current !== next.round.current) {
      if (next.myTurn) out.push("It's your turn. Others can hear you.");
      else if (next.round.current) out.push(`${nameOf(next.round.current)}'s turn.`);
      if (next.imNext && !prev.imNext) out.push('You are next.');
    }
  }

  // The floor, outside rounds.
  if (!next.round && !prev.round) {
    if (next.isHolder && !prev.isHolder) {
      out.push('You have the floor. Others can hear you.');
      if (next.timer) out.push(`You have ${minutes(next.timer.seconds)}.`);
    } else if (prev.isHolder && !next.isHolder) {
      out.push(change === 'timer_expired' ? 'Your time is up. Thank you.' : 'The floor has returned to the facilitator.');
    } else if (next.holder && next.holder !== prev.holder) {
      out.push(`${nameOf(next.holder)} has the floor.`);
    }
  }
  // A timed share whose speaker may finish, and time added to one.
  if (change === 'timer_expired' && next.holder && next.holder === prev.holder && next.timer) {
    if (next.isHolder) out.push('Your time is up. Take a moment to finish.');
    else if (next.isFac) out.push(`Time is up for ${nameOf(next.holder)}.`);
  }
  if (change === 'extend_timer' && next.isHolder && by !== me) {
    const added = prev.timer && next.timer ? next.timer.seconds - prev.timer.seconds : 0;
    out.push(`The facilitator gave you ${added > 0 ? `${minutes(added)} more` : 'more time'}.`);
  }
  if (prev.mode !== next.mode && !next.isFac && !prev.round && !next.round) {
    out.push(next.mode === 'moderated'
      ? 'Only the person with the floor is heard now. Raise your hand if you would like to speak.'
      : 'Everyone can speak again.');
  }

  // One's own mute, request and hand.
  for (const kind of ['audio', 'video']) {
    if (!prev.enforced[kind] && next.enforced[kind]) {
      if (kind === 'audio') {
        out.push(next.canSelfUnmute
          ? 'The facilitator muted your microphone. You can unmute when you are ready.'
          : 'The facilitator muted your microphone. Use the Ask to speak button when you would like to talk.');
      } else {
        out.push('The facilitator turned off your camera.');
      }
    } else if (prev.enforced[kind] && !next.enforced[kind]) {
      out.push(kind === 'audio' ? 'The facilitator unmuted your microphone.' : 'The facilitator allowed your camera again.');
    }
  }
  if (change === 'decline_unmute' && next.change.participant === me) {
    out.push('Your request to speak was declined for now.');
  }
  if (prev.policy.selfUnmute !== next.policy.selfUnmute && !next.isFac) {
    out.push(next.policy.selfUnmute ? 'You can now unmute yourself.' : 'You now ask the facilitator before unmuting.');
  }
  if (prev.handPos.has(me) && !next.handPos.has(me) && change === 'lower_hand' && by && by !== me) {
    out.push('The facilitator lowered your hand.');
  }

  // The private aside.
  if (!prev.aside && next.aside) {
    if (next.inAside) {
      out.push(next.aside.member === me
        ? `${nameOf(next.aside.host)} started a private conversation with you. Only the two of you hear each other.`
        : `You are talking privately with ${nameOf(next.aside.member)}. The group does not hear either of you.`);
    } else {
      out.push(`${nameOf(next.aside.host)} is talking privately with ${nameOf(next.aside.member)}.`);
    }
  } else if (prev.aside && !next.aside) {
    out.push('The private conversation has ended.');
  }

  // The side room.
  const sideKey = (v) => JSON.stringify(v.sideRoom);
  if (!prev.inSideRoom && next.inSideRoom) out.push(sideRoomSentence(next, nameOf));
  else if (prev.inSideRoom && !next.inSideRoom) out.push('You are back with the group.');
  else if (!next.inSideRoom && sideKey(prev) !== sideKey(next)) {
    if (next.sideRoom) out.push(sideRoomSentence(next, nameOf));
    for (const id of (prev.sideRoom && prev.sideRoom.participants) || []) {
      if (!next.inSide(id) && next.byId.has(id) && id !== me) out.push(`${nameOf(id)} is back with the group.`);
    }
  }

  // The facilitator role, handed for the session.
  const handedTo = (v) => (v.facilitation ? v.facilitation.participant : '');
  if (handedTo(prev) !== handedTo(next)) {
    if (next.acting) {
      out.push(`${nameOf(next.facilitation.by)} handed you the facilitator role for this session. You can run go-arounds, give the floor, mute members and let people in.`);
    } else if (prev.acting) {
      out.push('The facilitator role is back with the facilitators. Thank you for facilitating.');
    } else if (next.facilitation) {
      out.push(`${nameOf(next.facilitation.participant)} is facilitating now.`);
    } else {
      out.push(`${nameOf(handedTo(prev))} is no longer facilitating.`);
    }
  }

  // For facilitators: hands and requests to speak.
  if (next.isFac) {
    const raised = next.hands.filter((h) => !prev.handPos.has(h.participant) && h.participant !== me);
    for (const h of raised) out.push(`${nameOf(h.participant)} raised their hand.`);
    for (const p of next.participants) {
      const before = prev.byId.get(p.id);
      const asked = p.unmuteRequested && p.unmuteRequested.audio;
      const askedBefore = before && before.unmuteRequested && before.unmuteRequested.audio;
      if (asked && !askedBefore && p.id !== me) out.push(`${nameOf(p.id)} asks to speak.`);
    }
  }
  return out;
}

function minutes(seconds) {
  const m = Math.max(1, Math.round(seconds / 60));
  return m === 1 ? 'one minute' : `${m} minutes`;
}
