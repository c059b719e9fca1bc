// The engineer's screen: the cue list and its buttons, bus meters, faders and mutes, the engine's
// counters and the event log. Actions go to the engine's cue runner and rings as OSC commands do, and
// each is shown when the engine has acknowledged it (or refused it: without ?token=..., every action is).
"use strict";

const $ = (id) => document.getElementById(id);
const CLIP_HOLD_MS = 2000;
let rate = { fps: 25, nominal: 25, drop: false }, selected = null, clips = {};
window.acknowledged = [];

function say(list, text, className = "") {
  const item = document.createElement("li");
  item.textContent = text; item.className = className;
  list.prepend(item);
  while (list.children.length > 200) list.lastChild.remove();
}

const show = new Show("engineer", {
  hello(message) {
    rate = message.rate;
    const table = $("cuelist"); table.innerHTML = "";
    for (const cue of message.cues) {
      const row = table.insertRow();
      row.dataset.number = cue.number;
      row.insertCell().textContent = cue.number;
      row.insertCell().textContent = cue.name;
      row.insertCell().textContent = cue.trigger === "timecode" ? cue.timecode : cue.trigger;
      row.onclick = () => { selected = cue.number; for (const r of table.rows) r.classList.toggle("selected", r === row); };
    }
    const buses = $("buses"); buses.innerHTML = "";
    for (const name of message.buses) {
      const line = document.createElement("div");
      line.className = "bus"; line.dataset.bus = name;
      line.innerHTML = `<span>${name}</span><div class="meter"><div class="rms"></div><div class="peak"></div></div>
        <input type="range" min="-96" max="12" step="0.5" value="0" class="fader">
        <span class="gain">0.0</span><label><input type="checkbox" class="mute"> mute</label>`;
      const fader = line.querySelector(".fader");
      fader.oninput = () => show.act(`/bus/${name}/gain`, [Number(fader.value), 0.05], `${name} gain ${fader.value} dB`);
      const mute = line.querySelector(".mute");
      mute.onchange = () => show.act(`/bus/${name}/mute`, [mute.checked ? 1 : 0], `${name} ${mute.checked ? "mute" : "unmute"}`);
      buses.append(line);
    }
    for (const event of message.events) say($("log"), `${event.kind}: ${event.text}`);
  },
  tick(message) {
    const cues = message.cues;
    for (const row of $("cuelist").rows) {
      row.classList.toggle("current", row.dataset.number === cues.current[0]);
      row.classList.toggle("standby", row.dataset.number === cues.standing_by[0]);
      row.classList.toggle("next", row.dataset.number === cues.next[0]);
    }
    const clock = message.clock;
    $("etimecode").textContent = message.timecode || "--:--:--:--";
    $("elock").textContent = clock.state; $("elock").className = `state-${clock.state}`;
    $("drift").textContent = message.drift.toFixed(1);
    $("voices").textContent = message.voices; $("dsp").textContent = `${message.dsp.toFixed(1)} %`;
    $("dsppeak").textContent = `${message.dsp_peak.toFixed(1)} %`; $("missed").textContent = message.missed;
    $("late").textContent = message.late; $("viewers").textContent = message.viewers;
    const now = performance.now();
    for (const line of $("buses").children) {
      const name = line.dataset.bus, meter = message.meters[name], level = message.buses[name];
      if (!meter) continue;
      const percent = (db) => `${Math.max(0, Math.min(100, (db + 60) / 60 * 100))}%`;
      line.querySelector(".rms").style.width = percent(Math.max(...meter.rms));
      line.querySelector(".peak").style.left = percent(Math.max(...meter.peak));
      if (Math.max(...meter.peak) >= -0.1) clips[name] = now;
      line.querySelector(".meter").classList.toggle("clip", now - (clips[name] || -1e9) < CLIP_HOLD_MS);
      line.querySelector(".gain").textContent = level.gain_db.toFixed(1);
      const fader = line.querySelector(".fader");
      if (document.activeElement !== fader) fader.value = level.target_db;
      line.querySelector(".mute").checked = level.mute;
    }
  },
  reply(message) {
    const text = `${message.what || message.address}: ${message.status}${message.data ? " " + JSON.stringify(message.data) : ""}`;
    window.acknowledged.push(message);
    say($("acks"), text, message.status);
  },
  events(message) { for (const event of message.events) say($("log"), `${event.kind}: ${event.text}`); },
});
window.liveShow = show;

$("go").onclick = () => show.act("/go", [], "GO");
$("back").onclick = () => show.act("/back", [], "back");
$("stop").onclick = () => show.act("/stop", [3], "stop all");
$("panic").onclick = () => show.act("/panic", [], "panic");
$("standby").onclick = () => selected && show.act(`/cue/${selected}/standby`, [], `standby ${selected}`);
