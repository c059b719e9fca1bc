// What both pages share: the socket, the estimate of the server's clock, timecode labels.
"use strict";

const params = new URLSearchParams(location.search);

// The server's CLOCK_MONOTONIC (ms) from the page's clock: each ping/pong gives an offset whose error
// is at most half its round trip; the least-delayed of the last few is kept (as Ontime's clockSync).
class ServerClock {
  constructor(keep = 10) { this.keep = keep; this.samples = []; this.offset = null; }
  add(sentAt, serverMs, receivedAt) {
    const roundTrip = receivedAt - sentAt;
    this.samples.push({ roundTrip, offset: serverMs - (sentAt + roundTrip / 2) });
    if (this.samples.length > this.keep) this.samples.shift();
    const best = this.samples.reduce((a, b) => (b.roundTrip < a.roundTrip ? b : a));
    this.offset = best.offset;
    this.roundTrip = best.roundTrip;
  }
  now(pageMs = performance.now()) { return pageMs + this.offset; }
  get ready() { return this.offset !== null; }
}

// The server's socket: hello, ticks, pongs, replies and events go to `handlers`; pings keep the clock.
class Show {
  constructor(page, handlers) {
    this.page = page; this.handlers = handlers; this.clock = new ServerClock();
    this.seq = Date.now() * 1000 % 1e15;  // a new page never repeats an old one's sequence numbers
    this.pending = new Map();
    window.serverNow = () => (this.clock.ready ? this.clock.now() : null);
    this.connect();
  }
  connect() {
    const query = new URLSearchParams({ page: this.page });
    for (const key of ["token", "view"]) if (params.get(key)) query.set(key, params.get(key));
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = this.socket = new WebSocket(`${scheme}://${location.host}/ws?${query}`);
    let pings = 0, timer = null;
    const ping = () => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ type: "ping", id: pings++, t: performance.now() }));
      timer = setTimeout(ping, pings < 10 ? 100 : 500);
    };
    socket.onopen = () => { document.body.classList.remove("offline"); ping(); };
    socket.onclose = () => {
      clearTimeout(timer); document.body.classList.add("offline");
      (this.handlers.closed || (() => {}))();
      setTimeout(() => this.connect(), 1000);
    };
    socket.onmessage = (event) => {
      const received = performance.now();
      const message = JSON.parse(event.data);
      if (message.type === "pong") { this.clock.add(message.t, message.server, received); return; }
      if (message.type === "reply" && this.pending.has(message.seq)) {
        const what = this.pending.get(message.seq); this.pending.delete(message.seq);
        message.what = what;
      }
      const handler = this.handlers[message.type];
      if (handler) handler(message);
    };
  }
  act(address, args = [], what = address) {
    const seq = ++this.seq;
    this.pending.set(seq, what);
    this.socket.send(JSON.stringify({ type: "action", seq, address, args }));
    return seq;
  }
}

// The timecode at server time `serverMs` from the last mapping (frames since midnight).
function framesAt(mapping, serverMs) {
  return mapping.frames + mapping.speed * (serverMs - mapping.t0) / 1000;
}

// Frames since midnight as a timecode label, drop-frame included (timecode.py's rule).
function timecodeLabel(frames, rate) {
  let count = Math.floor(frames);
  if (rate.drop) {
    const perTen = 17982, kept = 1800, dropping = 1798;
    const tens = Math.floor(count / perTen), inTen = count % perTen;
    const minutes = inTen < kept ? 0 : 1 + Math.floor((inTen - kept) / dropping);
    count += 2 * (9 * tens + minutes);
  }
  const n = rate.nominal, perDayLabels = n * 86400;
  count = ((count % perDayLabels) + perDayLabels) % perDayLabels;
  const ff = count % n, s = Math.floor(count / n) % 60, m = Math.floor(count / n / 60) % 60,
        h = Math.floor(count / n / 3600);
  const two = (x) => String(x).padStart(2, "0");
  return `${two(h)}:${two(m)}:${two(s)}${rate.drop ? ";" : ":"}${two(ff)}`;
}
