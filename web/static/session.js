// The one RTCPeerConnection of a participant (see signaling/PROTOCOL.md).
//
// The server offers first. Its offer holds one `recvonly` audio and one
// `recvonly` video m-line on which we publish our microphone and camera, and
// `sendonly` m-lines on which we receive others' tracks, spares included.
// Whose track each of those carries is told by `sections` messages (not by
// the msid): an m-line passes from one person to the next without an
// offer, and one we have no name for is shown as nobody's.
//
// A screen share and its sound go out on m-lines of our own
// (setScreenTrack), and others' arrive on m-lines `sections` marks as a
// screen.
//
// Offers may also come from us (an ICE restart, our screen's m-line). Collisions follow "perfect
// negotiation" with the client as the polite peer: we roll back our offer and
// answer the server's.
//
// When ICE stays `disconnected` or `failed` for a few seconds while we can
// signal, we restart it (PROTOCOL.md, "Reconnecting"); the connection
// survives a dropped websocket, and messages.js calls afterResume once a new one
// is back in the seat.

import { askSimulcast, scaleLayers } from './layers.js';

// How long ICE may stay disconnected, or failed, before we restart it, and
// how long a restart gets before we try again.
const ICE_DISCONNECTED_WAIT_MS = 3000;
const ICE_FAILED_WAIT_MS = 1000;
const ICE_RETRY_MS = 8000;

export class MediaSession {
  // send(msg) sends a signaling message.
  // canSignal() reports whether signaling messages reach the server now.
  // localTracks is {audio, video}: MediaStreamTracks or null; or a promise
  // of them, while the devices are being started (the first answer waits).
  // onRemoteTracks() is called when the set of received tracks changes.
  // onConnectionState(state) reports pc.connectionState.
  constructor({ iceServers, send, canSignal, localTracks, onRemoteTracks, onConnectionState }) {
    this.send = send;
    this.canSignal = canSignal || (() => true);
    this.iceTimer = 0;
    this.iceRestarts = 0;
    this.localTracks = { audio: null, video: null };
    this.localReady = Promise.resolve(localTracks).then((t) => {
      this.localTracks = { audio: (t && t.audio) || null, video: (t && t.video) || null };
    });
    this.onRemoteTracks = onRemoteTracks;
    this.onConnectionState = onConnectionState;

    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    this.closed = false;

    // Perfect negotiation state.
    this.makingOffer = false;
    this.answerPending = false;

    // Candidates that came before a remote description.
    this.pendingCandidates = [];

    // Messages touching the connection are handled one at a time, in order.
    this.queue = Promise.resolve();

    // The mids of the m-lines we publish on, found in the first offer and
    // kept across renegotiations: {audio: '0', video: '1'}.
    this.publishMids = { audio: null, video: null };
    // Our screen share's transceivers, made by the first share (and the
    // first with sound).
    this.screenTransceiver = null;
    this.screenSoundTransceiver = null;

    // Whose is each received track: mid -> {participant, kind} as the
    // sections messages say; and, for the m-lines we have, mid and
    // receiver track id -> {participant, kind}, rebuilt after each offer
    // and sections message.
    this.sectionOwners = new Map();
    this.midOwners = new Map();
    this.trackOwners = new Map();

    this.pc.addEventListener('icecandidate', (ev) => {
      if (ev.candidate) this.send({ type: 'candidate', candidate: ev.candidate.toJSON() });
    });
    this.pc.addEventListener('negotiationneeded', () => this.makeOffer());
    this.pc.addEventListener('track', () => this.onRemoteTracks());
    this.pc.addEventListener('connectionstatechange', () => this.onConnectionState(this.pc.connectionState));
    this.pc.addEventListener('iceconnectionstatechange', () => this.watchIce());
  }

  // watchIce starts a restart timer while ICE is disconnected or failed, and
  // stops it when ICE recovers by itself.
  watchIce() {
    if (this.closed) return;
    const state = this.pc.iceConnectionState;
    if (state !== 'disconnected' && state !== 'failed') {
      window.clearTimeout(this.iceTimer);
      this.iceTimer = 0;
      return;
    }
    if (state === 'failed') window.clearTimeout(this.iceTimer);
    else if (this.iceTimer) return;
    this.iceTimer = window.setTimeout(() => this.iceTrouble(),
      state === 'failed' ? ICE_FAILED_WAIT_MS : ICE_DISCONNECTED_WAIT_MS);
  }

  iceTrouble() {
    this.iceTimer = 0;
    if (this.closed || !this.iceBroken()) return;
    // Without signaling the new credentials cannot reach the server; the
    // resume after the websocket comes back restarts ICE instead.
    if (this.canSignal()) this.restartIce();
    this.iceTimer = window.setTimeout(() => this.iceTrouble(), ICE_RETRY_MS);
  }

  iceBroken() {
    const state = this.pc.iceConnectionState;
    return state === 'disconnected' || state === 'failed';
  }

  // restartIce makes the next offer carry new ICE credentials; the browser
  // then asks to negotiate and we offer.
  restartIce() {
    if (this.closed) return;
    this.iceRestarts += 1;
    this.pc.restartIce();
  }

  // afterResume puts negotiation right after the websocket came back: an
  // offer of ours that went out on the old socket may never have arrived,
  // so it is rolled back (the browser then asks to negotiate again if it
  // still needs to), and broken ICE is restarted.
  afterResume() {
    this.queue = this.queue
      .then(async () => {
        if (this.closed) return;
        if (this.pc.signalingState === 'have-local-offer' && !this.makingOffer) {
          await this.pc.setLocalDescription({ type: 'rollback' });
        }
        if (this.iceBroken()) this.restartIce();
      })
      .catch((err) => {
        if (!this.closed) console.warn('hearth: resuming negotiation failed:', err);
      });
    return this.queue;
  }

  // handle takes an offer, answer, candidate or sections message from the
  // server. Sections take effect at once: the server sends them before the
  // media and the offers they concern.
  handle(msg) {
    if (msg.type === 'sections') {
      this.setSections(msg.sections || []);
      return this.queue;
    }
    this.queue = this.queue
      .then(() => {
        if (this.closed) return undefined;
        if (msg.type === 'candidate') return this.addCandidate(msg.candidate);
        return this.onDescription({ type: msg.type, sdp: msg.sdp });
      })
      .catch((err) => {
        if (!this.closed) console.warn(`hearth: handling ${msg.type} failed:`, err);
      });
    return this.queue;
  }

  async makeOffer() {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ type: 'offer', sdp: this.pc.localDescription.sdp });
    } catch (err) {
      console.warn('hearth: making an offer failed:', err);
    } finally {
      this.makingOffer = false;
    }
  }

  async onDescription(desc) {
    const pc = this.pc;
    const readyForOffer = !this.makingOffer && (pc.signalingState === 'stable' || this.answerPending);
    const collision = desc.type === 'offer' && !readyForOffer;
    // We are the polite peer: never ignore the server's offer.
    if (collision && pc.signalingState === 'have-local-offer') {
      await pc.setLocalDescription({ type: 'rollback' });
    }
    this.answerPending = desc.type === 'answer';
    let layered = desc;
    if (desc.type === 'offer') {
      // Our camera goes out in layers, which the offer has to ask for.
      this.findPublishMids(parseSections(desc.sdp));
      layered = { type: 'offer', sdp: askSimulcast(desc.sdp, this.publishMids.video) };
    }
    try {
      await pc.setRemoteDescription(layered);
    } catch (err) {
      // A browser that cannot send layers takes the offer as it came.
      if (layered === desc) throw err;
      await pc.setRemoteDescription(desc);
    } finally {
      this.answerPending = false;
    }
    if (desc.type === 'offer') {
      const sections = parseSections(desc.sdp);
      this.findPublishMids(sections);
      this.mapOwners();
      await this.localReady;
      await this.attachLocalTracks();
      await pc.setLocalDescription();
      this.send({ type: 'answer', sdp: pc.localDescription.sdp });
      await scaleLayers(this.cameraSender());
    }
    await this.flushCandidates();
    this.onRemoteTracks();
  }

  async addCandidate(candidate) {
    if (!candidate || !candidate.candidate) return; // end of candidates
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      console.warn('hearth: a remote ICE candidate was not usable:', err);
    }
  }

  async flushCandidates() {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of pending) await this.addCandidate(c);
  }

  // findPublishMids picks, once, the first recvonly audio and video m-lines
  // of the server's offer; later offers keep the same ones while they last.
  findPublishMids(sections) {
    for (const kind of ['audio', 'video']) {
      const kept = this.publishMids[kind];
      if (kept !== null && sections.some((s) => s.mid === kept)) continue;
      const s = sections.find((x) => x.kind === kind && x.direction === 'recvonly' && x.port !== '0');
      this.publishMids[kind] = s ? s.mid : null;
    }
  }

  // attachLocalTracks puts our tracks on the publishing transceivers, or
  // makes them inactive when we have no track of that kind and never sent
  // one. A section that has sent stays sendonly with no track (a camera
  // turned off sends nothing): made inactive, the server would end the
  // track, and turned on again the camera would reach nobody.
  async attachLocalTracks() {
    for (const kind of ['audio', 'video']) {
      const tr = this.transceiverFor(this.publishMids[kind]);
      if (!tr) continue;
      const track = this.localTracks[kind];
      const direction = track || tr.direction === 'sendonly' ? 'sendonly' : 'inactive';
      if (tr.direction !== direction) tr.direction = direction;
      if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
    }
  }

  // setLocalTrack publishes track (another microphone or camera) instead
  // of the one we send now. Sending on an m-line that carried nothing needs
  // a new offer, which the browser asks for by itself.
  async setLocalTrack(kind, track) {
    this.localTracks = { ...this.localTracks, [kind]: track || null };
    const tr = this.transceiverFor(this.publishMids[kind]);
    if (!tr || this.closed) return;
    if (track && tr.direction !== 'sendonly') tr.direction = 'sendonly';
    await tr.sender.replaceTrack(track || null);
  }

  // setScreenTrack sends track as our screen share and sound as its sound
  // (a tab's audio), or nothing (null). The first share (and the first
  // sound) adds an m-line of our own, which needs an offer (the browser
  // asks for it); later shares reuse them.
  async setScreenTrack(track, sound = null) {
    if (this.closed) return;
    await this.setOwnSection('screenTransceiver', track);
    await this.setOwnSection('screenSoundTransceiver', sound);
  }

  async setOwnSection(slot, track) {
    const tr = this[slot];
    if (!tr) {
      if (track) this[slot] = this.pc.addTransceiver(track, { direction: 'sendonly' });
      return;
    }
    await tr.sender.replaceTrack(track || null);
  }

  // cameraSender is the sender of our camera, or null.
  cameraSender() {
    const tr = this.transceiverFor(this.publishMids.video);
    return tr ? tr.sender : null;
  }

  transceiverFor(mid) {
    if (mid === null) return null;
    return this.pc.getTransceivers().find((t) => t.mid === mid) || null;
  }

  // setSections applies a sections message: [{mid, participant, kind,
  // screen}], participant null for nobody.
  setSections(sections) {
    for (const s of sections) {
      const mid = String(s.mid);
      if (!s.participant) {
        this.sectionOwners.delete(mid);
        continue;
      }
      let kind = s.kind;
      if (s.screen) kind = s.kind === 'video' ? 'screen' : 'screen-audio';
      this.sectionOwners.set(mid, { participant: s.participant, kind });
    }
    this.mapOwners();
    this.onRemoteTracks();
  }

  // mapOwners records whose track each received m-line carries now. The
  // receiver's track stays the same when the server hands an m-line to
  // someone else, so the maps are rebuilt from scratch.
  mapOwners() {
    this.midOwners.clear();
    this.trackOwners.clear();
    const publishing = new Set([this.publishMids.audio, this.publishMids.video]);
    for (const [mid, owner] of this.sectionOwners) {
      if (publishing.has(mid)) continue;
      this.midOwners.set(mid, owner);
      const tr = this.transceiverFor(mid);
      if (tr) this.trackOwners.set(tr.receiver.track.id, owner);
    }
  }

  // remoteTracks lists what we receive now: [{participant, kind, track, mid}].
  remoteTracks() {
    const out = [];
    for (const tr of this.pc.getTransceivers()) {
      if (tr.mid === null || tr.stopped) continue;
      const owner = this.midOwners.get(tr.mid);
      const dir = tr.currentDirection;
      if (!owner || !(dir === 'recvonly' || dir === 'sendrecv')) continue;
      out.push({ participant: owner.participant, kind: owner.kind, track: tr.receiver.track, mid: tr.mid });
    }
    return out;
  }

  // publishing reports which kinds we send: {audio: bool, video: bool}.
  publishing() {
    const has = (kind) => {
      const tr = this.transceiverFor(this.publishMids[kind]);
      return Boolean(tr && tr.sender.track && (tr.currentDirection === 'sendonly' || tr.currentDirection === 'sendrecv'));
    };
    return { audio: has('audio'), video: has('video') };
  }

  // inboundStats returns one entry per inbound RTP stream with the
  // participant it comes from.
  async inboundStats() {
    const report = await this.pc.getStats();
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const mid = s.mid === undefined ? null : String(s.mid);
      const owner = this.trackOwners.get(s.trackIdentifier) || (mid !== null ? this.midOwners.get(mid) : undefined);
      out.push({
        participant: owner ? owner.participant : null,
        kind: s.kind || s.mediaType,
        screen: Boolean(owner && owner.kind.startsWith('screen')),
        mid,
        trackIdentifier: s.trackIdentifier || null,
        packetsReceived: s.packetsReceived || 0,
        bytesReceived: s.bytesReceived || 0,
        framesDecoded: s.framesDecoded === undefined ? null : s.framesDecoded,
        frameWidth: s.frameWidth || 0,
        frameHeight: s.frameHeight || 0,
      });
    });
    return out;
  }

  // audioLevels returns the current sound level (0 to 1) of each participant
  // we hear, and ours under the key `self`.
  async audioLevels() {
    const report = await this.pc.getStats();
    const levels = new Map();
    report.forEach((s) => {
      if (typeof s.audioLevel !== 'number') return;
      if (s.type === 'media-source' && s.kind === 'audio') {
        levels.set('self', s.audioLevel);
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        const mid = s.mid === undefined ? null : String(s.mid);
        const owner = this.trackOwners.get(s.trackIdentifier) || (mid !== null ? this.midOwners.get(mid) : undefined);
        if (owner && owner.kind === 'audio') levels.set(owner.participant, Math.max(levels.get(owner.participant) || 0, s.audioLevel));
      }
    });
    return levels;
  }

  // outboundStats returns one entry per outbound RTP stream.
  async outboundStats() {
    const report = await this.pc.getStats();
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      out.push({
        kind: s.kind || s.mediaType,
        mid: s.mid === undefined ? null : String(s.mid),
        packetsSent: s.packetsSent || 0,
        bytesSent: s.bytesSent || 0,
        framesEncoded: s.framesEncoded === undefined ? null : s.framesEncoded,
      });
    });
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    window.clearTimeout(this.iceTimer);
    this.pc.close();
  }
}

// parseSections reads what we need from each m-section of an SDP:
// [{kind, port, mid, direction}].
export function parseSections(sdp) {
  const sections = [];
  let cur = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [kind, port] = line.slice(2).split(' ');
      cur = { kind, port, mid: null, direction: 'sendrecv' };
      sections.push(cur);
    } else if (cur) {
      if (line.startsWith('a=mid:')) {
        cur.mid = line.slice(6).trim();
      } else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
        cur.direction = line.slice(2);
      }
    }
  }
  return sections;
}
