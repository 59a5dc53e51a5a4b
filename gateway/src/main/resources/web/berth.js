/*
 * berth.js: browser client for a Berth session that outlives dropped connections.
 * Plain ES2017, no dependencies, no build step; served by the gateway at /berth.js.
 * The full protocol is described in docs/sessions.md; in short (subprotocol berth.resume.v1):
 *
 *   data     "<seq> <payload>"  both directions; text stays text, binary stays binary (the prefix is
 *                               ASCII bytes). seq starts at 1 per direction per stream, +1 per message.
 *   ack      "ack <n>"          "I have every data message up to n"; the sender forgets them.
 *   resume   "resume <r> <s>"   the client's first message on every socket: r = highest server seq it
 *                               has in stream s ("-" for none). The gateway answers "resume <n> <s'>",
 *                               n = highest client seq it has in s'. Same stream: resend what is above n.
 *                               New stream: renumber the unacked messages from n+1 and start over.
 *
 * The session itself is the HttpOnly berth_session cookie, which the browser sends on every
 * reconnect; this file never sees it. If the gateway does not select the subprotocol, messages pass
 * through unchanged (no seq, no ack, at most once) and reconnecting still works.
 *
 * With an onprogress handler, every socket asks for progress (?progress=1): the gateway accepts it
 * at once and sends {"berth":"progress","phase":"queued"|"starting"|"scheduled"|"pulling"|"running"|"ready",...} frames
 * while the session's container starts; onprogress(phase, frame) gets each, and no message of the
 * session comes before "ready".
 */
(function () {
  'use strict';

  const PROTOCOL = 'berth.resume.v1';
  const ACK_EVERY = 32;          // messages: bounds what the gateway has to retain for us
  const ACK_DELAY_MS = 100;      // one ack per burst instead of one per message
  const BACKOFF_MIN_MS = 250;
  const BACKOFF_MAX_MS = 10000;
  const JITTER = 0.2;            // +-20%, so a restarted gateway is not hit by every browser at once
  const MAX_QUEUED = 1000;       // unacked messages we are willing to retain...
  const MAX_QUEUED_BYTES = 4 * 1024 * 1024; // ...and their size (string length counts as bytes)
  // Closes after which the same session can be picked up again: gateway restart (1001, 1012),
  // overload (1013, 1014) and dropped connections (1005, 1006; also what a refused handshake gives).
  // Anything else is final: 1000 ended, 4001 taken over by another tab, 1011 the container died,
  // 1002/1007/1008/1009 protocol errors, and codes we do not know.
  const RETRY_CODES = new Set([1001, 1005, 1006, 1012, 1013, 1014]);

  function resolveUrl(url, progress) {
    let resolved = url;
    if (/^https?:/i.test(url)) resolved = url.replace(/^http/i, 'ws');
    else if (!/^wss?:/i.test(url)) {
      resolved = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host
        + (url.startsWith('/') ? url : '/' + url);
    }
    return progress ? resolved + (resolved.includes('?') ? '&' : '?') + 'progress=1' : resolved;
  }

  const PROGRESS_PREFIX = '{"berth":"progress"';

  // Copies binary payloads: we may resend them later, after the caller has reused its buffer.
  function ownCopy(data) {
    if (typeof data === 'string') return data;
    if (data instanceof ArrayBuffer) return data.slice(0);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
    throw new TypeError('berth: send() takes a string or an ArrayBuffer');
  }

  function frame(seq, data) {
    const prefix = seq + ' ';
    if (typeof data === 'string') return prefix + data;
    const out = new Uint8Array(prefix.length + data.byteLength);
    for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
    out.set(new Uint8Array(data), prefix.length);
    return out.buffer;
  }

  // Returns {seq, data} or null if the frame does not start with "<digits> ".
  function unframe(raw) {
    if (typeof raw === 'string') {
      const m = /^(\d{1,15}) /.exec(raw);
      return m && {seq: Number(m[1]), data: raw.slice(m[0].length)};
    }
    const bytes = new Uint8Array(raw);
    let i = 0, seq = 0;
    while (i < 15 && i < bytes.length && bytes[i] >= 48 && bytes[i] <= 57) seq = seq * 10 + bytes[i++] - 48;
    return i > 0 && bytes[i] === 32 ? {seq, data: raw.slice(i + 1)} : null;
  }

  class Session {
    constructor(url, handlers) {
      this.handlers = handlers || {};
      this.progress = typeof this.handlers.onprogress === 'function';
      this.url = resolveUrl(url, this.progress);
      this.started = false;     // the current socket's session is ready (no progress frame follows)
      this.state = 'connecting';
      this.ws = null;
      this.resumeMode = false;  // the gateway selected berth.resume.v1 on the current socket
      this.ready = false;       // data may be written to the current socket
      this.ending = false;      // end() was called or the session failed: never reconnect
      this.stream = '-';        // the gateway's stream id, "-" until it told us one
      this.lastReceived = 0;    // highest server seq handed to onmessage
      this.acked = 0;           // highest server seq we acknowledged
      this.justResumed = false; // the next server seq may jump (e.g. we reloaded and forgot)
      this.outbox = [];         // {seq, data, size}: unacked (resume mode) or unsent (plain mode)
      this.outboxBytes = 0;
      this.nextSeq = 1;
      this.attempt = 0;
      this.ackTimer = null;
      this.retryTimer = null;
      this.open();
    }

    send(data) {
      if (this.ending) throw new Error('berth: the session is closed');
      data = ownCopy(data);
      const size = typeof data === 'string' ? data.length : data.byteLength;
      if (this.outbox.length >= MAX_QUEUED || this.outboxBytes + size > MAX_QUEUED_BYTES) {
        // Dropping a message would break "exactly once, in order", so give the session up instead.
        this.finish(1000, 'send queue full');
        throw new Error('berth: send queue full, the session was ended');
      }
      if (!this.resumeMode && this.ready) return this.ws.send(data);
      const message = {seq: this.resumeMode ? this.nextSeq++ : 0, data, size};
      this.outbox.push(message);
      this.outboxBytes += size;
      if (this.ready) this.ws.send(frame(message.seq, data));
    }

    end() {
      if (this.ending) return;
      this.ending = true;
      const ws = this.ws;
      if (ws && ws.readyState === 1) ws.close(1000, 'session ended'); // the close event reports it
      else if (!ws || ws.readyState !== 0) this.finish(1000, 'session ended');
      // Still connecting: onOpen closes it with 1000; aborting the handshake would leave the
      // container to the gateway's grace timer instead of removing it now.
    }

    open() {
      this.retryTimer = null;
      this.setState('connecting');
      this.started = !this.progress;
      const ws = this.ws = new WebSocket(this.url, [PROTOCOL]);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => this.ws === ws && this.onOpen(ws);
      ws.onmessage = (event) => this.ws === ws && this.onFrame(event.data);
      ws.onclose = (event) => this.ws === ws && this.onClose(event.code, event.reason);
      ws.onerror = () => {}; // always followed by close, which decides what happens next
    }

    onOpen(ws) {
      if (this.ending) return ws.close(1000, 'session ended');
      this.resumeMode = ws.protocol === PROTOCOL;
      if (this.resumeMode) return ws.send('resume ' + this.lastReceived + ' ' + this.stream);
      // Plain mode: nothing to resume; what was queued goes out once, and numbering starts over
      // should a later socket speak berth.resume.v1 again.
      this.stream = '-';
      this.lastReceived = this.acked = 0;
      this.nextSeq = 1;
      this.attempt = 0;
      this.ready = true;
      const queued = this.outbox;
      this.outbox = [];
      this.outboxBytes = 0;
      for (const message of queued) ws.send(message.data);
      this.setState('open');
    }

    onFrame(raw) {
      if (!this.started && typeof raw === 'string' && raw.startsWith(PROGRESS_PREFIX)) return this.onProgress(raw);
      if (!this.resumeMode) return this.deliver(raw);
      if (typeof raw === 'string' && !/^\d/.test(raw)) return this.onControl(raw);
      const message = unframe(raw);
      if (!this.ready || !message) return console.error('berth: unexpected data frame dropped', raw);
      if (message.seq <= this.lastReceived) { // the gateway replays from lastReceived + 1: a bug if it ever does not
        return console.warn('berth: message ' + message.seq + ' again, after ' + this.lastReceived + ': dropped');
      }
      if (message.seq !== this.lastReceived + 1 && !this.justResumed) {
        console.warn('berth: gap in server messages, ' + this.lastReceived + ' -> ' + message.seq);
      }
      this.justResumed = false;
      this.lastReceived = message.seq;
      if (this.lastReceived - this.acked >= ACK_EVERY) this.sendAck();
      else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.sendAck(), ACK_DELAY_MS);
      this.deliver(message.data);
    }

    onControl(text) {
      const m = /^(ack|resume) (\d{1,15})(?: (\S+))?$/.exec(text);
      if (m && m[1] === 'ack' && this.ready) return this.dropAcked(Number(m[2]));
      if (m && m[1] === 'resume' && m[3] && !this.ready) return this.onResumed(Number(m[2]), m[3]);
      console.warn('berth: unexpected control message ignored', text);
    }

    onProgress(raw) {
      const step = JSON.parse(raw);
      if (step.phase === 'ready') this.started = true;
      this.handlers.onprogress(step.phase, step);
    }

    onResumed(n, stream) {
      const sameStream = stream === this.stream;
      if (sameStream) {
        if (n >= this.nextSeq) console.warn('berth: gateway has seq ' + n + ', we only sent ' + (this.nextSeq - 1));
        this.dropAcked(n);
      } else {
        // A stream we do not know (first connect, or the gateway lost it): both numberings start over.
        this.stream = stream;
        this.lastReceived = 0;
        let seq = n;
        for (const message of this.outbox) message.seq = ++seq;
        this.nextSeq = seq + 1;
      }
      this.acked = this.lastReceived; // the gateway learned it from our resume message
      this.justResumed = true;
      this.attempt = 0;
      this.ready = true;
      for (const message of this.outbox) this.ws.send(frame(message.seq, message.data));
      this.setState('open');
      if (sameStream && this.handlers.onresume) this.handlers.onresume();
    }

    onClose(code, reason) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
      this.ready = false; // until the next socket is resumed, send() only queues
      if (this.ending || !RETRY_CODES.has(code)) return this.finish(code, reason);
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.attempt++, 10));
      const inMs = Math.round(base * (1 - JITTER + 2 * JITTER * Math.random()));
      this.retryTimer = setTimeout(() => this.open(), inMs);
      this.setState('reconnecting', {inMs, code, reason});
    }

    finish(code, reason) {
      this.ending = true;
      this.ready = false;
      clearTimeout(this.ackTimer);
      clearTimeout(this.retryTimer);
      const ws = this.ws;
      this.ws = null; // ignore whatever that socket still reports
      if (ws && ws.readyState <= 1) ws.close(1000, reason);
      this.setState('closed', {code, reason});
    }

    sendAck() {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
      if (!this.ready || this.lastReceived <= this.acked) return;
      this.ws.send('ack ' + this.lastReceived);
      this.acked = this.lastReceived;
    }

    dropAcked(n) {
      while (this.outbox.length && this.outbox[0].seq <= n) this.outboxBytes -= this.outbox.shift().size;
    }

    deliver(data) {
      if (this.handlers.onmessage) this.handlers.onmessage(data);
    }

    setState(state, detail) {
      this.state = state;
      if (this.handlers.onstatus) this.handlers.onstatus(state, detail);
    }
  }

  window.Berth = {PROTOCOL, connect: (url, handlers) => new Session(url, handlers)};
})();
