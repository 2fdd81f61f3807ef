// Words the client shows to people, in one place.
//
// The server's `error` messages carry a stable `code` and a human `message`;
// for the codes people are likely to meet we say it our own way, calmly and
// with what they can do next.

// Error codes after which the server closes the socket, when they answer
// join (PROTOCOL.md).
export const FATAL_CODES = new Set([
  'too_large', 'version', 'invalid_token', 'token_expired', 'wrong_room',
  'not_on_roster', 'blocked', 'bad_passcode', 'room_full', 'room_locked',
  'denied', 'unavailable',
]);

// Error codes that concern one control message and need no notice of
// their own beyond a calm sentence (the room_state already shows the truth).
export const CONTROL_REFS = new Set([
  'mute_participant', 'mute_all', 'set_policy', 'request_unmute', 'cancel_unmute_request',
  'decline_unmute', 'raise_hand', 'lower_hand', 'give_floor', 'take_floor', 'set_floor_mode',
  'set_timer', 'start_round', 'pass', 'end_turn', 'next_turn', 'skip', 'end_round',
  'start_aside', 'end_aside', 'remove', 'end_session', 'extend_timer',
  'start_side_room', 'end_side_room', 'hand_facilitation', 'take_back_facilitation',
]);

// Titles and messages for the screen shown when joining is refused.
const REFUSALS = {
  denied: ['You were not admitted', 'A facilitator did not let you into this session. If you think this is a mistake, please contact them.'],
  room_full: ['This session is full', 'There is no space left in this room right now. You could try again later, or contact your facilitator.'],
  not_on_roster: ['This is a closed group', 'Your name is not on the list for this group. If you think this is a mistake, please contact your facilitator.'],
  invalid_token: ['This invitation link does not work', 'Please ask your facilitator for a new link.'],
  token_expired: ['This invitation link is not active', 'It has expired, or is not valid yet. Please ask your facilitator for a new link.'],
  wrong_room: ['This link is for another room', 'Please check the room name, or use the link from your invitation.'],
  blocked: ['You cannot join this session', 'Please contact your facilitator if you have questions.'],
  room_locked: ['The room is locked', 'The facilitator has closed the room to new arrivals for now. Please try again in a little while.'],
  unavailable: ['Hearth is not available right now', 'Something we depend on is down. Please try again in a minute.'],
  version: ['This page is out of date', 'Please reload the page and join again.'],
  too_large: ['Something went wrong', 'Please join again.'],
};

// refusal returns [title, message] for a fatal error code.
export function refusal(code, serverMessage) {
  return REFUSALS[code] || ['You could not join', serverMessage || 'Please try again.'];
}

// Friendlier words for errors that do not end the session.
const NOTICES = {
  forbidden: 'Only facilitators can do that.',
  rate_limited: 'That was a lot at once. Please wait a moment before trying again.',
  bad_sdp: 'There was a problem setting up audio or video. If others cannot see or hear you, please leave and join again.',
  internal: 'Something went wrong on the server. If things stop working, please leave and join again.',
  unavailable: 'Hearth could not do that just now. Please try again in a minute; the session carries on.',
  room_full: 'There is no free seat in the room just now.',
};

export function notice(code, serverMessage, ref) {
  if (code === 'bad_request' && CONTROL_REFS.has(ref)) {
    return 'That did not fit what is happening in the session just now, so nothing changed.';
  }
  return NOTICES[code] || serverMessage || 'Something went wrong.';
}

// What the waiting screen says, by reason, when a facilitator is here, when
// none is, and when the server does not say (those stay true either way).
const WAITING_HERE = {
  waiting_for_facilitator: 'The facilitator is here and will let you in shortly.',
  knock: 'A facilitator is here and will let you in shortly.',
  locked: 'The room is locked for now. A facilitator is here and can let you in.',
};
const WAITING_AWAY = {
  waiting_for_facilitator: 'The session starts when the facilitator arrives.',
  knock: 'A facilitator will let you in once they arrive.',
  locked: 'The room is locked for now. A facilitator can let you in once they are back.',
};
const WAITING = {
  waiting_for_facilitator: 'Waiting for the facilitator to let you in.',
  knock: 'A facilitator will let you in shortly.',
  locked: 'The room is locked for now. A facilitator can let you in.',
};

// waitingMessage says why one waits; present is the server's
// facilitatorPresent (undefined if it does not say); afterEnd is true when
// the session one was in has just ended, so this is a new one.
export function waitingMessage(reason, afterEnd, present) {
  const words = present === true ? WAITING_HERE : present === false ? WAITING_AWAY : WAITING;
  const why = words[reason] || 'Please wait a moment.';
  return afterEnd ? `The last session has ended. You are waiting for a new one. ${why}` : why;
}

// displayNameFrom makes a room's name readable, as the server does for a
// room without a display name: "thursday-circle" is "Thursday circle".
export function displayNameFrom(name) {
  const s = String(name || '').split(/[-_.\s]+/).filter(Boolean).join(' ');
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : String(name || '');
}

// roomTitle is the name to show for a room: its display name from the
// server, or one made from its name.
export function roomTitle(room, name) {
  if (room && typeof room.displayName === 'string' && room.displayName) return room.displayName;
  return displayNameFrom((room && room.name) || name);
}

// Titles and messages for `bye`.
const BYES = {
  left: ['You left the session', 'Thank you for being here. Take care of yourself.'],
  ended: ['The session has ended', 'Thank you for being here. Take care of yourself. If you join this room again, you will wait until a facilitator starts a new session.'],
  removed: ['You were removed from the session', 'A facilitator ended your place in this session. Please contact them if you have questions.'],
  server_shutdown: ['The session was interrupted', 'The server is restarting. You can join again in a moment.'],
  joined_elsewhere: ['You joined from another window', 'You are in the session in another window or on another device, so this one has left. Join again here to move back to this window.'],
};

// How a departure is announced, by the reason in participant_left.
export function leftPhrase(reason) {
  switch (reason) {
    case 'removed': return 'was removed';
    case 'timeout': return 'lost their connection';
    default: return 'left';
  }
}

// Lengths offered for a timed share or a turn, in seconds (0: no limit).
export const SHARE_LENGTHS = [0, 60, 120, 180, 300, 600];

export function shareLengthLabel(seconds) {
  if (!seconds) return 'No time limit';
  const m = Math.round(seconds / 60);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

// ordinal: 1 -> "1st".
export function ordinal(n) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

// clock formats milliseconds left as m:ss.
export function clock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// duration says a length of time in words: "3 min 5 s", "40 s".
export function duration(ms) {
  const s = Math.round(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}

export const TURN_STATUS = {
  pending: 'waiting',
  speaking: 'sharing now',
  spoke: 'shared',
  passed: 'passed',
  skipped: 'skipped',
  left: 'left',
};

export const ROUND_ORDERS = [
  ['join', 'In the order people arrived'],
  ['roster', 'In the order of the group list'],
  ['shuffle', 'In a random order'],
];

export function goodbye(reason) {
  return BYES[reason] || BYES.left;
}

export const ROLE_LABELS = {
  facilitator: 'Facilitator',
  'co-facilitator': 'Co-facilitator',
  cofacilitator: 'Co-facilitator',
  member: '',
};

export function roleLabel(role) {
  if (!role) return '';
  if (role in ROLE_LABELS) return ROLE_LABELS[role];
  return role.charAt(0).toUpperCase() + role.slice(1).replace(/[-_]/g, ' ');
}

export function isFacilitator(role) {
  return role === 'facilitator' || role === 'co-facilitator' || role === 'cofacilitator';
}

// Why a camera or microphone could not be used, from a getUserMedia error.
export function mediaProblem(kind, error) {
  const device = kind === 'audio' ? 'microphone' : 'camera';
  switch (error && error.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Your browser did not allow the ${device}.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found.`;
    case 'NotReadableError':
    case 'AbortError':
      return `Your ${device} could not be started; another app may be using it.`;
    case 'Unsupported':
      return `This browser cannot use a ${device} on this page (it needs a secure https connection).`;
    default:
      return `Your ${device} could not be used.`;
  }
}

export const STATUS_TEXT = {
  idle: '',
  connecting: 'Connecting…',
  waiting: 'Waiting to be let in',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  disconnected: 'Disconnected',
  ended: 'Not connected',
};
