'use strict';
// Commands that exist for the gateway's tests, not for an app: close (a backend that closes its
// websocket), leak (an app that outgrows its memory limit) and probe (what a session's sandbox
// can reach). server.js loads this file only with BERTH_TEST_HOOKS=1; your own app can drop it.

const net = require('node:net');

const MAX_PROBES = 4; // probes running at once on one websocket
const PROBE_HOST = /^[A-Za-z0-9._:-]{1,255}$/; // an IP literal (IPv6 without brackets) or a host name
const leaked = []; // never given back

/** Runs the test command `cmd` on `ws`, answering with `reply(object)`; false if it is not one. */
function run(ws, cmd, reply) {
  switch (cmd.cmd) {
    case 'close': {
      const { code, reason = '' } = cmd;
      if (!(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))
          || typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
        reply({ type: 'error', message: 'close needs "code": 1000 or 3000-4999 and an optional "reason" of at most 123 bytes' });
      } else {
        ws.close(code, reason);
      }
      return true;
    }
    case 'leak': {
      const { mib } = cmd;
      if (!Number.isInteger(mib) || mib < 1 || mib > 65536) {
        reply({ type: 'error', message: 'leak needs "mib": an integer from 1 to 65536' });
        return true;
      }
      reply({ type: 'leak', mib });
      // Touched (filled), so the memory is really taken: the container's limit kills the process.
      setImmediate(() => { for (let i = 0; i < mib; i++) leaked.push(Buffer.alloc(1 << 20, 1)); });
      return true;
    }
    case 'probe':
      probe(ws, cmd, reply);
      return true;
    default:
      return false;
  }
}

/** Tries a TCP connect from inside the session's container, closed at once: reachable or not. */
function probe(ws, { host, port, timeoutMs = 1000 }, reply) {
  if (typeof host !== 'string' || !PROBE_HOST.test(host) || !Number.isInteger(port) || port < 1 || port > 65535
      || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 5000) {
    reply({ type: 'error', message: 'probe needs "host": an IP address or host name of at most 255 characters, '
      + '"port": 1-65535 and an optional "timeoutMs": 1-5000 (default 1000)' });
    return;
  }
  ws.probes = ws.probes || 0;
  if (ws.probes >= MAX_PROBES) {
    reply({ type: 'error', message: `probe refused: ${MAX_PROBES} probes are running on this connection, the most at once` });
    return;
  }
  ws.probes++;
  const socket = net.connect({ host, port });
  let done = false;
  const answer = (error) => {
    if (done) return;
    done = true;
    ws.probes--;
    clearTimeout(timer);
    socket.destroy();
    reply(error ? { type: 'probe', host, port, reachable: false, error } : { type: 'probe', host, port, reachable: true });
  };
  const timer = setTimeout(() => answer(`timed out after ${timeoutMs} ms`), timeoutMs); // name lookup included
  socket.once('connect', () => answer(null));
  socket.once('error', (e) => answer(e.code || e.message));
}

module.exports = { run };
