// The conductor's screen: timecode and lock, bar and beat, cues, and the visual cues on a canvas, drawn
// each animation frame for the instant it will be on screen (?latency=ms: the display's latency, else the
// one calibrated; ?flash=1: a flash on every click). ?calibrate=1: the calibration view, a flash on every
// click while [ and ] move the latency by 5 ms until flash and click coincide (kept in this browser).
// window.drawLog records (page clock time, what was drawn).
"use strict";

const PUNCH_SECONDS = 0.15, FLASH_SECONDS = 0.1, FLUTTER_SPACING_SECONDS = 0.5;
const COLORS = { green: "#2e2", yellow: "#ee2", red: "#e22", white: "#fff", blue: "#36f", cyan: "#2ee",
                 magenta: "#e2e", orange: "#f92" };
const calibrating = params.get("calibrate") === "1";
let displayLatency = Number(params.get("latency") ?? localStorage.getItem("displayLatency") ?? 0);
const beatFlash = params.get("flash") === "1" || calibrating;
const $ = (id) => document.getElementById(id);
const canvas = $("visuals"), context = canvas.getContext("2d");

let rate = { fps: 25, nominal: 25, drop: false }, cues = [];
let mapping = null, epoch = -1, marks = { beats: [], visuals: [] }, cueState = null;
let shownFrames = null;  // never moves backwards except on a relocation (a new epoch)
window.drawLog = [];
if (calibrating) {
  const readout = $("calibration");
  const say = () => { readout.textContent = `display latency ${displayLatency} ms: [ earlier, ] later`; };
  readout.hidden = false; say();
  addEventListener("keydown", (event) => {
    const step = { "[": -5, "]": 5 }[event.key];
    if (step === undefined) return;
    displayLatency += step;
    localStorage.setItem("displayLatency", String(displayLatency));
    say();
  });
}

const show = new Show("conductor", {
  hello(message) { rate = message.rate; cues = message.cues; },
  tick(message) {
    if (message.clock.epoch !== epoch) { epoch = message.clock.epoch; shownFrames = null; marks = { beats: [], visuals: [] }; }
    mapping = message.clock; marks = { beats: message.beats, visuals: message.visuals }; cueState = message.cues;
  },
  closed() { mapping = null; marks = { beats: [], visuals: [] }; },
});
window.liveShow = show;

// The chase's state, and "lost" once a freewheel has run out (until the timecode locks again).
let lockLost = false, lastState = "stopped";
function lockState() {
  const state = mapping ? mapping.state : "stopped";
  if (state !== lastState) lockLost = state === "stopped" && (lastState === "freewheel" || lockLost);
  lastState = state;
  return lockLost ? "lost" : state;
}

function moving() { return mapping && (mapping.state === "locked" || mapping.state === "freewheel") && mapping.speed > 0; }

// The timecode (frames) that will be on screen when this frame is: the page's clock, the display's latency.
function framesOnScreen(pageMs) {
  if (!mapping || !show.clock.ready) return null;
  const frames = framesAt(mapping, show.clock.now(pageMs) + displayLatency);
  if (!moving()) return mapping.frames;
  if (shownFrames !== null && frames < shownFrames) return shownFrames;
  return (shownFrames = frames);
}

function flutterFrames(mark) {
  // The punches of a flutter: on the beats before its hit, the last on it.
  const before = marks.beats.filter((b) => b[0] <= mark.frame + 0.01).map((b) => b[0]);
  if (before.length >= mark.punches) return before.slice(-mark.punches);
  const spacing = FLUTTER_SPACING_SECONDS * rate.fps;
  return Array.from({ length: mark.punches }, (_, i) => mark.frame - (mark.punches - 1 - i) * spacing);
}

function draw(pageMs) {
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  context.clearRect(0, 0, width, height);
  const frames = framesOnScreen(pageMs);
  const drawn = { t: show.clock.ready ? show.clock.now(pageMs) + displayLatency : null, frames, epoch,
                  streamers: [], punches: [], flashes: [] };
  const state = lockState();
  $("lock").textContent = state; $("lock").className = `state-${state}`;
  $("timecode").textContent = frames === null || !moving() && state !== "freewheel"
    ? (mapping && mapping.state !== "stopped" ? timecodeLabel(mapping.frames, rate) : "--:--:--:--")
    : timecodeLabel(frames, rate);
  let flash = null;
  if (moving() && frames !== null) {
    const fps = rate.fps;
    const current = marks.beats.filter((b) => b[0] <= frames).pop();
    $("barbeat").textContent = current ? `${current[1]}.${current[2]}` : "-.-";
    for (const beat of marks.beats) {
      if (beatFlash && frames >= beat[0] && frames < beat[0] + FLASH_SECONDS * fps) {
        flash = beat; drawn.flashes.push(beat[0]);
      }
    }
    for (const mark of marks.visuals) {
      const color = COLORS[mark.color] || mark.color;
      const punchAt = mark.kind === "flutter" ? flutterFrames(mark) : [mark.frame];
      if (mark.kind === "streamer") {
        const length = mark.length * fps;
        if (frames >= mark.frame - length && frames < mark.frame) {
          const x = width * (1 - (mark.frame - frames) / length);
          context.fillStyle = color;
          context.fillRect(Math.max(0, x - width * 0.012), 0, width * 0.012, height);
          drawn.streamers.push({ frame: mark.frame, progress: x / width });
        }
      }
      for (const at of punchAt) {
        if (frames >= at && frames < at + PUNCH_SECONDS * fps) {
          context.fillStyle = color;
          context.beginPath();
          context.arc(width / 2, height / 2, Math.min(width, height) * 0.35, 0, 2 * Math.PI);
          context.fill();
          drawn.punches.push({ frame: at, hit: mark.frame, kind: mark.kind });
        }
      }
    }
  } else {
    $("barbeat").textContent = "-.-";
  }
  document.body.classList.toggle("flash", flash !== null);
  document.body.classList.toggle("accent", flash !== null && flash[2] === 1);
  if (cueState) {
    $("current").textContent = cueState.current[0] ? `${cueState.current[0]} ${cueState.current[1]}` : "—";
    const next = cueState.standing_by[0] ? cueState.standing_by : cueState.next;
    $("next").textContent = next[0] ? `${next[0]} ${next[1]}` : "—";
    const cue = cues.find((c) => c.number === next[0]);
    let countdown = "";
    if (cue && cue.trigger === "timecode" && frames !== null && moving()) {
      const seconds = (cue.frame - frames) / rate.fps;
      // In beats of the running click too, when its schedule reaches the cue.
      const clicking = marks.beats.length && marks.beats[0][0] <= frames
        && marks.beats[marks.beats.length - 1][0] >= cue.frame - 0.01;
      const beats = marks.beats.filter((b) => b[0] > frames && b[0] <= cue.frame + 0.01).length;
      if (seconds > 0) countdown = clicking ? `in ${beats} beats, ${seconds.toFixed(1)} s` : `in ${seconds.toFixed(1)} s`;
    } else if (cue && cue.trigger === "go") countdown = "on GO";
    $("countdown").textContent = countdown;
  }
  window.drawLog.push(drawn);
  if (window.drawLog.length > 20000) window.drawLog.splice(0, 10000);
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);
