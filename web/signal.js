// Signalling: the WebSocket of PROTOCOL.md at /ws, sub-protocol sobre.v1, one JSON
// object per text frame. request() gives a message an id and resolves with the server's
// reply carrying it (answer, ok or error); every other message goes to onmessage.
// A ping every 15 s; no pong within 10 s means the path is dead (a network change that
// TCP has not noticed yet): the socket is closed and onclose is told.
export class Signal {
  constructor(onmessage, onclose) {
    this.onmessage = onmessage;
    this.onclose = onclose;
    this.seq = 0;
    this.waiting = new Map();   // id -> resolve
    this.ws = null;
    this.closed = false;
  }

  // Resolves once the socket is open; rejects if it cannot be.
  open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    return new Promise((resolve, reject) => {
      const ws = this.ws = new WebSocket(url, 'sobre.v1');
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.timer = setInterval(() => this.ping(), 15000);
        resolve();
      };
      ws.onmessage = (ev) => {
        if (this.closed) return;
        let m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === 'pong') { this.pong = true; return; }
        const done = m.id !== undefined && this.waiting.get(m.id);
        if (done) {
          this.waiting.delete(m.id);
          done(m);
        } else {
          this.onmessage(m);
        }
      };
      ws.onclose = (ev) => {
        clearInterval(this.timer);
        for (const done of this.waiting.values()) done({ type: 'error', code: 'closed' });
        this.waiting.clear();
        if (!opened) reject(new Error('websocket'));
        else if (!this.closed) this.drop(ev.code);
        this.closed = true;
      };
    });
  }

  get up() {
    return !this.closed && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    if (this.up) this.ws.send(JSON.stringify(obj));
  }

  // The reply to obj (same id), or {type:'error', code:'timeout'} after ms.
  request(obj, ms = 15000) {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ type: 'error', code: 'timeout' }), ms);
      this.waiting.set(id, (m) => { clearTimeout(timer); resolve(m); });
      this.send({ ...obj, id });
    });
  }

  ping() {
    this.pong = false;
    this.send({ type: 'ping' });
    setTimeout(() => { if (!this.pong && this.up) this.drop(0); }, 10000);
  }

  // The connection is lost (closed by the server or the network, or silent): onclose.
  drop(code) {
    if (this.closed) return;
    this.close();
    this.onclose(code);
  }

  // Closes the socket; onclose is not called (the caller knows).
  close() {
    this.closed = true;
    clearInterval(this.timer);
    if (this.ws) this.ws.close();
  }
}
