// The websocket to the Hearth server (see signaling/PROTOCOL.md): one JSON
// object per text frame, each with a `type`.

const PING_INTERVAL_MS = 20_000;
// With no frame at all from the server for this long the connection is
// treated as dead, so a half-open socket does not leave people waiting.
const SILENCE_LIMIT_MS = 50_000;

// signalingURL returns the websocket address on the page's own origin.
export function signalingURL(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}

export class Signaling {
  // onMessage(msg) is called for each message from the server, in order.
  // onClose({code, reason, expected}) is called once, when the socket has
  // closed for any reason; `expected` is true when we closed it ourselves.
  constructor(url, { onMessage, onClose }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.ws = null;
    this.closedByUs = false;
    this.pingTimer = 0;
    this.lastHeard = 0;
    this.rttMs = null;
    this.done = false;
  }

  // open connects and resolves when the socket is open. It rejects when the
  // socket closes before it opens; onClose is called in that case too.
  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(err);
        this.finish(1006, String(err));
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.addEventListener('open', () => {
        opened = true;
        this.lastHeard = Date.now();
        this.pingTimer = window.setInterval(() => this.ping(), PING_INTERVAL_MS);
        resolve();
      });
      ws.addEventListener('message', (ev) => {
        this.lastHeard = Date.now();
        if (typeof ev.data !== 'string') return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          console.warn('hearth: ignoring a frame that is not JSON');
          return;
        }
        if (!msg || typeof msg.type !== 'string') return;
        if (msg.type === 'pong' && typeof msg.ts === 'number') {
          this.rttMs = Date.now() - msg.ts;
        }
        this.onMessage(msg);
      });
      ws.addEventListener('close', (ev) => {
        if (!opened) reject(new Error('could not connect'));
        this.finish(ev.code, ev.reason);
      });
      // An 'error' event is always followed by 'close', handled above.
    });
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // send sends one message and reports whether it could.
  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  ping() {
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      // Not closedByUs: the connection was lost, and the owner may retry.
      this.ws.close(4000, 'no answer from server');
      this.finish(1006, 'no answer from server');
      return;
    }
    this.send({ type: 'ping', ts: Date.now() });
  }

  // drop closes the socket as a network failure would look to its owner:
  // onClose says expected: false, so the owner reconnects. For tests.
  drop() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(4001, 'dropped');
    this.finish(1006, 'dropped');
  }

  // close closes the socket on purpose; onClose then says expected: true.
  close(code = 1000, reason = '') {
    this.closedByUs = true;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(code, reason);
    this.finish(code, reason);
  }

  finish(code, reason) {
    if (this.done) return;
    this.done = true;
    window.clearInterval(this.pingTimer);
    this.onClose({ code, reason, expected: this.closedByUs });
  }
}
