'use strict';
// A Berth session handler in Node.js, on the `ws` package: one process per session, in the
// session's own container. It keeps the gateway's contract (docs/your-own-app.md): the BERTH_*
// environment, GET /ready, a websocket on any path that starts with a hello, the warm pool's
// claim, an idle exit, and SIGTERM closing websockets with 1001. The app itself, a live listing
// feed and an echo of everything else, is the part to replace with your own (search "YOUR APP").

const http = require('node:http');
const os = require('node:os');
const { WebSocketServer } = require('ws');

const MiB = 1 << 20;
const MAX_MESSAGE = 16 * MiB; // bigger messages are refused with 1009
const HIGH_WATER = MiB; // stop reading a client while this much waits to be sent to it
const FEED_SKIP_ABOVE = 64 * 1024; // the feed skips its ticks for a client this far behind
const MAX_FEED = 1000;
const SESSION_KEY = /^[A-Za-z0-9_-]{1,64}$/;

// --- settings ----------------------------------------------------------------------------------
// A bad value exits with status 2 and one line naming the variable and what is accepted.
function fail(name, accepted) {
  console.error(`invalid ${name}=${JSON.stringify(process.env[name])}; accepted: ${accepted}`);
  process.exit(2);
}
function integer(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer from ${min} to ${max}`);
  }
  return value;
}
function text(name, fallback) {
  const value = process.env[name];
  if (value === undefined) return fallback;
  if (value.trim() === '' || value.length > 256 || /[\u0000-\u001f\u007f]/.test(value)) {
    fail(name, 'a non-blank string of at most 256 characters without control characters');
  }
  return value;
}

const config = {
  host: text('BERTH_HOST', '0.0.0.0'),
  port: integer('BERTH_PORT', 8080, 0, 65535),
  version: text('BERTH_VERSION', 'dev'),
  pooled: process.env.BERTH_POOL === '1',
  idleGraceMs: integer('BERTH_IDLE_GRACE_MS', 60000, 1, 7 * 24 * 3600 * 1000),
  feedPerSecond: integer('BERTH_FEED_PER_SECOND', 2, 0, MAX_FEED),
  testHooks: process.env.BERTH_TEST_HOOKS === '1',
};

// The session: one per process, so it outlives any one websocket (a reconnecting gateway finds
// it again). A pooled handler (BERTH_POOL=1) learns its key and user from the gateway's claim.
const session = {
  key: config.pooled ? null : text('BERTH_SESSION', 'local'),
  user: config.pooled ? undefined : process.env.BERTH_USER,
  email: config.pooled ? undefined : process.env.BERTH_USER_EMAIL, // for your app; not in the hello
  hostname: os.hostname(),
  startedAt: Date.now(),
  connections: 0,
  framesReceived: 0, // data messages echoed (ws hands over whole messages, not frames)
  bytesReceived: 0,
  pingsReceived: 0,
  lastCloseCode: null,
  lastCloseReason: null,
  feedPerSecond: config.feedPerSecond, // a feed command sets it for later connections too
  listingSeq: 0,
};

const log = (line) => console.log(`${new Date().toISOString()} ${line}`);
const testHooks = config.testHooks ? require('./test-hooks') : null;

// --- sending, with backpressure ---------------------------------------------------------------
// Every reply and echo goes through send: while more than HIGH_WATER waits for a client that does
// not read, the websocket stops reading it too, so its TCP connection backs up, not our memory.
function send(ws, data, binary = false) {
  ws.send(data, { binary }, () => {
    if (ws.isPaused && ws.bufferedAmount < HIGH_WATER / 2) ws.resume();
  });
  if (ws.bufferedAmount > HIGH_WATER && !ws.isPaused) ws.pause();
}
const sendJson = (ws, object) => send(ws, JSON.stringify(object));
const error = (ws, message) => sendJson(ws, { type: 'error', message });

// --- the gateway's contract --------------------------------------------------------------------
function hello(ws) {
  const greeting = {
    type: 'hello',
    session: session.key,
    version: config.version,
    hostname: session.hostname,
    connection: ws.number,
  };
  if (session.user !== undefined) greeting.user = session.user;
  sendJson(ws, greeting);
  startFeed(ws, session.feedPerSecond);
}

// A pooled handler's first message must be {"cmd":"claim","session":KEY}: it serves the first
// session it is claimed for, and refuses anything else with 1008.
function firstClaim(ws, data, isBinary) {
  const claim = isBinary ? null : parse(data);
  const key = claim && claim.cmd === 'claim' ? claim.session : null;
  if (typeof key !== 'string' || !SESSION_KEY.test(key)) {
    ws.close(1008, 'a pooled handler must be claimed first');
    return;
  }
  session.key = key;
  if (typeof claim.user === 'string') session.user = claim.user;
  if (typeof claim.email === 'string') session.email = claim.email;
  log(`claimed for session ${key}`);
  hello(ws);
}

function parse(data) {
  try {
    const value = JSON.parse(data.toString());
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

// --- YOUR APP: what a session does with its websocket -----------------------------------------
// Here: a live listing feed, the commands feed and state, and an echo of every other message.
const CITIES = ['Lisbon', 'Porto', 'Madrid', 'Barcelona', 'Paris', 'Lyon', 'Berlin', 'Hamburg'];
const STATUSES = ['new', 'price_change', 'sold'];
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const between = (low, high) => low + Math.floor(Math.random() * (high - low));

function startFeed(ws, perSecond) {
  clearInterval(ws.feed);
  if (perSecond === 0) return;
  const started = Date.now();
  let emitted = 0;
  // Paced by elapsed time, so the rate holds whatever the timer does; a client that is behind
  // skips updates rather than queueing them, and seq is only taken for an update sent (no gaps).
  ws.feed = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
    for (; emitted < due; emitted++) {
      if (ws.bufferedAmount > FEED_SKIP_ABOVE) continue;
      sendJson(ws, {
        type: 'listing',
        seq: ++session.listingSeq,
        id: `L-${between(10000, 100000)}`,
        city: pick(CITIES),
        price: between(60, 2500) * 1000,
        status: pick(STATUSES),
        at: Date.now(),
      });
    }
  }, Math.max(10, Math.floor(1000 / perSecond)));
}

function onMessage(ws, data, isBinary) {
  if (!isBinary && data.subarray(0, 6).toString() === '{"cmd"') {
    command(ws, parse(data));
    return;
  }
  session.framesReceived++;
  session.bytesReceived += data.length;
  send(ws, data, isBinary); // text stays text, binary stays binary
}

function command(ws, cmd) {
  if (cmd === null) return error(ws, 'command is not a JSON object');
  switch (cmd.cmd) {
    case 'feed':
      if (!Number.isInteger(cmd.perSecond) || cmd.perSecond < 0 || cmd.perSecond > MAX_FEED) {
        return error(ws, `feed needs "perSecond": an integer from 0 to ${MAX_FEED}, got ${cmd.perSecond}`);
      }
      session.feedPerSecond = cmd.perSecond;
      startFeed(ws, cmd.perSecond);
      return sendJson(ws, { type: 'feed', perSecond: cmd.perSecond });
    case 'state':
      return sendJson(ws, {
        type: 'state',
        session: session.key,
        hostname: session.hostname,
        version: config.version,
        framesReceived: session.framesReceived,
        bytesReceived: session.bytesReceived,
        connections: session.connections,
        pingsReceived: session.pingsReceived,
        startedAt: session.startedAt,
        lastCloseCode: session.lastCloseCode,
        lastCloseReason: session.lastCloseReason,
      });
    case 'claim': // a claim on a claimed handler: the same session is greeted again, another refused
      if (cmd.session === session.key) return hello(ws);
      return ws.close(1008, 'already claimed for another session');
    default:
      if (testHooks && testHooks.run(ws, cmd, (reply) => sendJson(ws, reply))) return;
      return error(ws, `unknown cmd ${JSON.stringify(cmd.cmd)}; known: feed, state${testHooks ? ', close, leak, probe' : ''}`);
  }
}

// --- the server ---------------------------------------------------------------------------------
const server = http.createServer((req, res) => {
  const ready = req.url.split('?')[0] === '/ready' && (req.method === 'GET' || req.method === 'HEAD');
  res.writeHead(ready ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(ready ? 'ready' : 'not found');
});

// Any path; no extension and no subprotocol negotiated; ws checks frames, UTF-8 (1007) and size (1009).
const wss = new WebSocketServer({
  server,
  maxPayload: MAX_MESSAGE,
  perMessageDeflate: false,
  handleProtocols: () => false,
});

let idleTimer = null;
let exiting = false;
function armIdleTimer() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    log(`idle: no websocket for ${config.idleGraceMs} ms, exiting`);
    process.exit(0);
  }, config.idleGraceMs);
}

wss.on('connection', (ws, req) => {
  if (exiting) return ws.close(1001, 'session over');
  clearTimeout(idleTimer);
  ws.number = ++session.connections;
  log(`connect #${ws.number} path ${req.url} (open ${wss.clients.size})`);
  if (session.key !== null) hello(ws); // a claimed or named handler greets every connection unasked
  ws.on('message', (data, isBinary) => {
    if (session.key === null) firstClaim(ws, data, isBinary);
    else onMessage(ws, data, isBinary);
  });
  ws.on('ping', () => session.pingsReceived++); // ws answers each with a pong itself
  ws.on('close', (code, reason) => {
    clearInterval(ws.feed);
    session.lastCloseCode = code === 1005 || code === 1006 ? null : code;
    session.lastCloseReason = reason.toString();
    log(`disconnect #${ws.number} code ${code} (open ${wss.clients.size})`);
    if (wss.clients.size === 0 && !exiting) armIdleTimer();
  });
});

// The gateway stops a session's container with SIGTERM: say 1001 to every websocket, then exit
// once they closed, within 2 s. (As PID 1 in a container, a process without a handler ignores it.)
function shutdown(signal) {
  if (exiting) return;
  exiting = true;
  log(`${signal}: closing ${wss.clients.size} websocket(s) with 1001`);
  clearTimeout(idleTimer);
  server.close();
  for (const ws of wss.clients) ws.close(1001, 'session over');
  const deadline = Date.now() + 2000;
  setInterval(() => {
    if (wss.clients.size === 0 || Date.now() > deadline) process.exit(0);
  }, 20);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  log(`listening on ${config.host}:${port} (version ${config.version}, hostname ${session.hostname}, ` +
    `${config.pooled ? 'pooled' : `session ${session.key}`}, feed ${config.feedPerSecond}/s, ` +
    `idle grace ${config.idleGraceMs} ms, node ${process.version}, started in ${Math.round(process.uptime() * 1000)} ms)`);
  armIdleTimer();
});
