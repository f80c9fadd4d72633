// posture-coach live page: camera → JPEG frames over /ws/live → overlay, cards, cues.
// Plain ES module, no build step. Frames are sent un-mirrored; only the preview is
// mirrored (CSS). At most MAX_IN_FLIGHT frames are unanswered at any time.
import { colon, initialLang, lang, paren, pick, setLang, t } from "./i18n.js";
import { createGroomingPanel } from "./grooming.js"; // grooming (issue 9)

const MAX_IN_FLIGHT = 2;
const SEND_W = 640;
const SEND_H = 480;
const JPEG_QUALITY = 0.7;
const TARGET_FPS = 30;
const POSTURE_ASK_AFTER_MS = 3000;  // "standing or sitting?" after this long unable to tell
const CAMERA_MUTE_LOST_MS = 2000;   // a camera track muted this long (no frames) counts as lost
// The personal baseline's numbers (never a picture), kept in this browser across reloads.
const PROFILE_KEY = "posture-coach.profile";
// The run going on (live session id and save token), kept for this tab only: a reload
// mid-run asks the server for that run back instead of losing it.
const RUN_KEY = "posture-coach.run";
const KEPT_MAX_CHARS = 16384;  // what this page keeps is far smaller: larger is damage, dropped
const POSE_EDGES = [
  [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24],
  [23, 25], [25, 27], [24, 26], [26, 28], [27, 29], [29, 31], [27, 31], [28, 30],
  [30, 32], [28, 32], [15, 17], [15, 19], [15, 21], [16, 18], [16, 20], [16, 22],
  [0, 2], [0, 5], [2, 7], [5, 8], [9, 10],
];
const HAND_EDGES = [
  [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10],
  [10, 11], [11, 12], [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17],
  [17, 18], [18, 19], [19, 20],
];
const STATUS_COLOURS = { pass: "#2fbf5b", warn: "#f2a900", fail: "#ff4d40", unknown: "#9aa4b1" };
// Skeleton lines a rule is about: drawn in that rule's colour (grey while it cannot judge),
// not in the worst colour of all rules (a red shoulder line while the shoulders were unknown).
const EDGE_RULES = new Map([
  ["11,12", ["standing.shoulders_level", "sitting.shoulders_level"]],
]);
const SEVERITY = { unknown: -1, pass: 0, warn: 1, fail: 2 };
// A score resting on less judged time than this is "too short to rely on" (README; the
// calibration's [scoring] thin_evidence_s), for every rule judged over time alike.
const THIN_EVIDENCE_S = 3;

const $ = (id) => document.getElementById(id);
const el = {
  video: $("video"), overlay: $("overlay"), cards: $("cards"), conn: $("conn"), notice: $("notice"),
  framing: $("framing"), cue: $("cue"), timer: $("timer"), score: $("score"),
  start: $("start"), stop: $("stop"), calibrate: $("calibrate"), drill: $("drill"),
  drillStart: $("drill-start"), drillSummary: $("drill-summary"), drillbox: $("drillbox"),
  speak: $("speak"), lang: $("lang"), posture: $("posture"),
  help: $("camera-help"), helpTitle: $("camera-help-title"), helpText: $("camera-help-text"),
  calibDialog: $("calib-dialog"), calibStep: $("calib-step"), calibProgress: $("calib-progress"),
  calibStatus: $("calib-status"), calibGo: $("calib-go"),
  summaryDialog: $("summary-dialog"), summaryBody: $("summary-body"),
  runNotice: $("run-notice"), postureAsk: $("posture-ask"),
  calibSkip: $("calib-skip"), calibKept: $("calib-kept"), who: $("who"), stage: $("stage"),
  summaryAgain: $("summary-again"), hint: $("first-hint"), alerts: $("alerts"),
};

const state = {
  ws: null, wsOpen: false, busy: false, retryMs: 1000,
  rules: new Map(), reasons: {}, drills: new Map(),
  engineOk: true, modelsOk: true,
  nextId: 1, lastAcked: 0, lastAckAt: 0, sent: 0, done: 0, encoding: false,
  last: null, running: false, runStart: 0,
  latencies: [], doneTimes: [], serverMs: [], dropped: 0,
  statuses: {}, drill: null, drillDef: null, drillResult: null,
  calibPhase: -1, snapshots: new Map(), lastCueAt: 0, brightness: 255,
  liveId: null, saveToken: null, recover: null,
  cameraOk: false, runNotice: null, postureUnknownSince: null,
  stream: null, muteTimer: 0, cameraLostRun: false,
  cueRule: null, cueStatus: null, recoverCause: null, calibSkipped: false, profileInUse: false, calibNote: null,
  quietReconnect: false, me: null, calibCount: 0, calibTimer: 0,
};
// Beside the picture, above the rule cards: in view during the grooming step without scrolling.
const grooming = createGroomingPanel({ // grooming (issue 9)
  parent: $("grooming-slot") || document.querySelector(".side") || document.body, lang,
});
const grab = document.createElement("canvas");
grab.width = SEND_W;
grab.height = SEND_H;
const grabCtx = grab.getContext("2d", { willReadFrequently: true });
const CALIB_PHASES = ["neutral", "face", "smile"];

// ---------------------------------------------------------------- catalogue and i18n
async function loadCatalogue() {
  const [rules, drills] = await Promise.all([
    fetch("api/rules").then((r) => r.json()),
    fetch("api/drills").then((r) => r.json()),
  ]);
  state.reasons = rules.reasons || {};
  state.engineOk = rules.engine === "ok";
  for (const r of rules.rules) state.rules.set(r.id, r);
  for (const d of drills.drills) state.drills.set(d.id, d);
  renderDrillOptions();
  renderCards();
  refreshNotice();
}

function applyLang(code) {
  setLang(code);
  el.lang.value = lang();
  renderDrillOptions();
  renderCards();
  renderDrillBox();
  refreshNotice();
  if (state.runNotice) setRunNotice(state.runNotice);
  renderCalibKept();
  renderWho();
  renderHint();
  if (state.calibTimer) el.calibStatus.textContent = t("calib_countdown", { n: state.calibCount + 1 });
  el.cue.hidden = true;  // a cue on screen is in the old language; the next one comes in the new
  if (grooming.setLang) grooming.setLang(); // grooming (issue 9)
  send({ type: "lang", lang: lang() });
}

function reasonText(code) {
  if (!code) return "";
  const r = state.reasons[code];
  const text = r ? r[lang()] || r.en : code;
  return lang() === "en" ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

function ruleTitle(id) {
  const r = state.rules.get(id);
  return r ? pick(r, "title") : id;
}

// ---------------------------------------------------------------- camera
async function startCamera() {
  el.help.hidden = true;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showCameraHelp("camera_insecure_title", "camera_insecure_help");
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: SEND_W }, height: { ideal: SEND_H }, facingMode: "user" },
      audio: false,
    });
    watchCamera(stream);
    el.video.srcObject = stream;
    await el.video.play().catch(() => {});
    if (state.stream !== stream) return;  // lost again while starting
    state.cameraOk = true;
    updateButtons();
  } catch (err) {
    state.cameraOk = false;
    updateButtons();
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      showCameraHelp("camera_denied_title", "camera_denied_help");
    } else if (name === "NotFoundError" || name === "OverconstrainedError") {
      showCameraHelp("camera_missing_title", "camera_missing_help");
    } else if (name === "NotReadableError" || name === "AbortError") {
      showCameraHelp("camera_busy_title", "camera_busy_help");
    } else {
      showCameraHelp("camera_error_title", "camera_missing_help", String(err));
    }
  }
}

/** A camera unplugged (or taken by another program) ends its track, or mutes it for good;
 * the <video> keeps its last picture at readyState 4, so nothing else would notice. */
function watchCamera(stream) {
  state.stream = stream;
  clearTimeout(state.muteTimer);
  for (const track of stream.getVideoTracks()) {
    track.addEventListener("ended", () => cameraLost(stream));
    track.addEventListener("mute", () => {
      clearTimeout(state.muteTimer);
      state.muteTimer = setTimeout(() => cameraLost(stream), CAMERA_MUTE_LOST_MS);
    });
    track.addEventListener("unmute", () => clearTimeout(state.muteTimer));
  }
}

/** The camera is gone: no more frames, a running practice ends as Stop ends it (its summary
 * covers only the time the camera was there), and the stage says what happened. */
function cameraLost(stream) {
  if (stream !== state.stream) return;  // a late event from a camera already replaced
  clearTimeout(state.muteTimer);
  state.stream = null;
  state.cameraOk = false;
  for (const track of stream.getTracks()) track.stop();
  el.video.srcObject = null;
  clearLiveView();
  if (state.calibPhase >= 0 || el.calibDialog.open) closeCalibration();  // no picture, no calibration
  // A running practice ends here (its summary comes as after Stop): the help must not
  // promise that Retry goes on with it. Retry brings the camera back for a new practice.
  const endedRun = state.running;
  if (state.running) {
    state.cameraLostRun = true;
    stopRun();
  }
  updateButtons();
  showCameraHelp("camera_lost_title", endedRun ? "camera_lost_run_help" : "camera_lost_help");
}

/** "Retry" on the camera help: a practice the lost camera ended is over, so its time and
 * score go (a frozen 0:05 read as a run still going); the page is ready to start again. */
function retryCamera() {
  if (!state.running) resetMeters();
  startCamera();
}

function resetMeters() {
  setText(el.timer, "0:00");
  setText(el.score, "–");
}

/** Nothing on screen may pretend to be live (camera or connection lost): the last
 * skeleton, framing hint, cue and rule statuses go. */
function clearLiveView() {
  state.last = null;
  state.statuses = {};
  el.framing.hidden = true;
  el.cue.hidden = true;
  draw();
  renderCards();
}

function showCameraHelp(titleKey, textKey, extra = "") {
  el.help.hidden = false;
  el.helpTitle.dataset.i18n = titleKey;
  el.helpText.dataset.i18n = textKey;
  el.helpTitle.textContent = t(titleKey);
  el.helpText.textContent = t(textKey) + (extra ? paren(extra) : "");
}

// ---------------------------------------------------------------- WebSocket
function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws/live`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  setConn("conn_connecting");
  ws.onopen = () => {
    if (ws !== state.ws) return;  // a socket already given up on
    state.wsOpen = true;
    state.busy = false;
    state.retryMs = 1000;
    state.lastAcked = state.nextId - 1;
    setConn("conn_open");
    updateButtons();
    send({ type: "lang", lang: lang() });
    send({ type: "posture", posture: el.posture.value });
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") onMessage(JSON.parse(ev.data));
  };
  ws.onclose = (ev) => {
    if (ws !== state.ws) return;  // a replaced socket's late close: its successor is in charge
    state.wsOpen = false;
    state.ws = null;
    clearLiveView();
    if (state.quietReconnect) {  // closed on purpose (a forgotten calibration): a fresh one now
      state.quietReconnect = false;
      connect();
      updateButtons();
      return;
    }
    if (ev.code === 1009) {
      // A message too large for the server: only what this page keeps can be that (a
      // calibration or a run damaged in storage). Drop it, or every reconnect sends it again.
      localStorage.removeItem(PROFILE_KEY);
      forgetRun();
    }
    if (ev.code === 1013) {
      state.busy = true;
      setConn("conn_busy", true);
      setTimeout(connect, 5000);
    } else {
      setConn("conn_closed", true);
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 10000);
    }
    if (state.running) {
      // The server finishes a run cut off like this and keeps it: get it back on reconnect.
      if (state.liveId !== null && state.saveToken) state.recover = { session: state.liveId, token: state.saveToken };
      setRunning(false);
      el.drillbox.hidden = true;
      setRunNotice("run_interrupted");
    }
    updateButtons();
  };
}

/** One line above the stage about the practice itself (interrupted, not recovered); null hides it. */
function setRunNotice(key) {
  state.runNotice = key;
  el.runNotice.hidden = !key;
  el.runNotice.textContent = key ? t(key) : "";
}

/** Start and drill buttons need a connection and a camera, and no practice running. */
function updateButtons() {
  const ready = state.wsOpen && state.cameraOk;
  // The calibration panel sits beside the picture (not modal): nothing starts meanwhile.
  const calibrating = el.calibDialog.open;
  el.start.disabled = state.running || !ready || calibrating;
  el.drillStart.disabled = state.running || !ready || calibrating;
  el.summaryAgain.disabled = state.running || !ready;
  el.stop.disabled = !state.running;
  el.calibrate.disabled = !ready || state.running || calibrating;  // a new baseline mid-run would restart its scores
  // The rule pack too: switching it mid-run restarted the scores without a word (the
  // summary's rules rested on the second half only). The standing-or-sitting question on
  // the picture still answers it (choosePosture), as the person is asked to.
  el.posture.disabled = state.running;
  el.posture.title = state.running ? t("posture_locked") : "";
  renderCalibKept();  // its "calibrate again" and "forget it" follow the same state
}

function setConn(key, bad = false) {
  el.conn.dataset.i18n = key;
  el.conn.textContent = t(key);
  el.conn.classList.toggle("bad", bad);
}

function send(msg) {
  if (socketOpen()) state.ws.send(JSON.stringify(msg));
}

/** The socket in use is open (a replaced one may still be closing while its successor connects). */
function socketOpen() {
  return Boolean(state.ws && state.wsOpen && state.ws.readyState === WebSocket.OPEN);
}

// ---------------------------------------------------------------- a run across a reload
/** Keep the running practice's session and save token for this tab (sessionStorage): a
 * reload mid-run ends that connection, and the server keeps its run for the page to ask for. */
function keepRun() {
  if (state.liveId === null || !state.saveToken) return;
  sessionStorage.setItem(RUN_KEY, JSON.stringify({ session: state.liveId, token: state.saveToken }));
}

function forgetRun() {
  sessionStorage.removeItem(RUN_KEY);
}

function keptRun() {
  try {
    const raw = sessionStorage.getItem(RUN_KEY) || "null";
    const run = raw.length <= KEPT_MAX_CHARS ? JSON.parse(raw) : null;
    if (run && Number.isInteger(run.session) && typeof run.token === "string" && run.token.length <= 200) return run;
  } catch { /* damaged: dropped below */ }
  forgetRun();
  return null;
}

/** On a new connection: a run cut off by the dropped connection (kept in memory) or by a
 * reload of the page (kept in sessionStorage) is asked back; its summary says which. */
function askForLostRun() {
  const run = state.recover || keptRun();
  state.recoverCause = state.recover ? "drop" : run ? "reload" : null;
  state.recover = null;
  if (run) send({ type: "recover", session: run.session, token: run.token });
}

/** A run started from below the picture (a small window scrolled down to its button):
 * bring the picture, with its cue, back into view. Never scrolls when it is in view. */
function keepStageInView() {
  const r = el.stage.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) el.stage.scrollIntoView({ block: "nearest" });
}

// ---------------------------------------------------------------- calibration kept across reloads
function keptProfile() {
  try {
    const raw = localStorage.getItem(PROFILE_KEY) || "null";
    // A baseline is a few hundred bytes; anything near the socket's 64 KB limit is damage.
    const kept = raw.length <= KEPT_MAX_CHARS ? JSON.parse(raw) : null;
    if (kept && kept.profile && typeof kept.profile === "object") return kept;
  } catch { /* damaged: dropped below */ }
  localStorage.removeItem(PROFILE_KEY);
  return null;
}

/** Each connection starts without a baseline: hand it the one this browser keeps. */
function restoreProfile() {
  const kept = keptProfile();
  if (kept) send({ type: "profile_restore", profile: kept.profile });
}

/** "Using your calibration of 25 Nov · calibrate again · forget it", or a note about it. */
function renderCalibKept() {
  const box = el.calibKept;
  const kept = keptProfile();
  box.classList.toggle("bad", Boolean(state.calibNote && state.calibNote.key === "calib_kept_bad"));
  if (state.profileInUse && kept) {
    const day = new Date(kept.saved_at);
    const date = Number.isNaN(day.getTime()) ? "" : new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB",
      { month: lang() === "zh" ? "long" : "short", day: "numeric" }).format(day);
    const again = linkButton("calib_again", openCalibration);
    const forget = linkButton("calib_forget", forgetProfile);
    again.disabled = el.calibrate.disabled;
    forget.disabled = state.running;
    // A kept copy without a readable date (edited by hand, an older page) says so without one.
    box.replaceChildren(`${date ? t("calib_kept", { date }) : t("calib_kept_undated")} · `, again, " · ", forget);
  } else if (state.calibNote) {
    const note = state.calibNote;
    box.replaceChildren((note.text && note.text[lang()]) || t(note.key));
  } else {
    box.replaceChildren();
  }
  box.hidden = !box.childNodes.length;
}

function linkButton(key, onClick) {
  const b = Object.assign(document.createElement("button"), {
    type: "button", className: "link-button", textContent: t(key),
  });
  b.addEventListener("click", onClick);
  return b;
}

/** Forget the kept baseline: gone from this browser, and the connection that uses it is
 * replaced by a fresh one (which starts without any). */
function forgetProfile() {
  if (state.running) return;
  localStorage.removeItem(PROFILE_KEY);
  state.profileInUse = false;
  state.calibNote = { key: "calib_forgotten" };
  renderCalibKept();
  if (state.ws) {
    state.quietReconnect = true;
    state.ws.close(1000, "calibration forgotten");
  }
}

// ---------------------------------------------------------------- first visit
// Three steps for someone who has never practised here: the pack or a drill, calibrate,
// start. Gone for good once dismissed or once a practice starts (this browser remembers).
const HINT_KEY = "posture-coach.hint-done";

function renderHint() {
  const done = localStorage.getItem(HINT_KEY) === "1";
  el.hint.hidden = done;
  if (done) return;
  const q = (key) => (lang() === "zh" ? `“${t(key)}”` : `“${t(key)}”`);
  const names = {
    pack: q("posture_label"), standing: q("posture_standing"), sitting: q("posture_sitting"),
    drill: q("drill_label"), calibrate: q("calibrate"), start: q("start"), drill_start: q("drill_start"),
  };
  ["hint_step1", "hint_step2", "hint_step3"].forEach((key, i) => {
    $(`hint-${i + 1}`).textContent = t(key, names);
  });
}

function dismissHint() {
  localStorage.setItem(HINT_KEY, "1");
  el.hint.hidden = true;
}

// ---------------------------------------------------------------- who is signed in
/** "王小明（学员）· 退出" or "未登录 · 登录", from the same sign-in as the review page.
 * /api/auth/status answers 200 for nobody too (/api/auth/me's 401 was logged as a console
 * error on every load). */
async function refreshWho() {
  try {
    const r = await fetch("/api/auth/status", { credentials: "same-origin" });
    const body = r.ok ? await r.json() : null;
    if (body && !body.user) {
      state.me = { user: null };
    } else if (body) {
      const me = body;
      state.me = { user: me.user, csrf: me.csrf_token, name: me.user.person_name || null };
      if (!state.me.name && me.user.person_id != null) state.me.name = await personName(me.user.person_id);
    } else state.me = null;  // no session store on this server: nobody can sign in here
  } catch {
    state.me = null;
  }
  renderWho();
}

/** A trainee's own name (GET /api/people lists themself); null when it cannot be had. */
async function personName(id) {
  try {
    const r = await fetch("/api/people", { credentials: "same-origin" });
    if (!r.ok) return null;
    const person = ((await r.json()).people || []).find((p) => p.id === id);
    return person ? person.name : null;
  } catch {
    return null;
  }
}

function renderWho() {
  const me = state.me;
  el.who.hidden = !me;
  if (!me) return;
  if (!me.user) {
    const link = Object.assign(document.createElement("a"), {
      href: "/review/", target: "_blank", rel: "noopener", textContent: t("who_sign_in"),
    });
    el.who.replaceChildren(`${t("who_signed_out")} · `, link);  // back in this tab (focus): asked again
    return;
  }
  const name = Object.assign(document.createElement("strong"), { textContent: me.name || me.user.username });
  const role = `who_role_${me.user.role}`;  // "（学员）" / " (trainee)"; an unknown role says nothing
  el.who.replaceChildren(t("who_signed_in"), name, t(role) === role ? "" : t(role), " · ",
    linkButton("who_sign_out", signOut));
}

async function signOut() {
  const me = state.me;
  if (!me || !me.user) return;
  try {
    const r = await fetch("/api/auth/logout", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": me.csrf || "" },
    });
    if (r.ok) {  // signed out: said at once
      state.me = { user: null };
      renderWho();
      return;
    }
  } catch { /* whatever happened, asking again says who is signed in now */ }
  await refreshWho();
}

function onMessage(msg) {
  switch (msg.type) {
    case "hello":
      askForLostRun();
      state.liveId = msg.session;
      state.saveToken = msg.save_token || null;
      state.engineOk = msg.engine === "ok";
      state.modelsOk = msg.models === "ok";
      refreshNotice();
      restoreProfile();
      break;
    case "feedback":
      ack(msg);
      if (state.cameraOk) onFeedback(msg);  // an answer to a frame sent before the camera was lost
      break;
    case "error":
    case "busy":
      ack(msg);
      if (msg.code === "nothing_to_recover") {
        // The server restarted (or 15 minutes passed): that run is gone. Say so, start fresh.
        setRunNotice(state.recoverCause === "reload" ? "run_not_recovered_reload" : "run_not_recovered");
        forgetRun();
        resetMeters();
      } else if (msg.code === "bad_profile") {
        // The kept baseline no longer fits this coach (a new version, a damaged copy): drop it.
        localStorage.removeItem(PROFILE_KEY);
        state.profileInUse = false;
        state.calibNote = { key: "calib_kept_bad", text: msg.text || null };
        renderCalibKept();
      } else if (msg.code && msg.code !== "bad_frame") console.warn("coach:", msg.code, msg.message);
      break;
    case "started":
      dismissHint();  // the third step is done: the hint has served
      setRunNotice(null);
      setRunning(true);
      keepRun();
      keepStageInView();
      break;
    case "summary":
      if (msg.recovered) setRunNotice(null);
      forgetRun();  // it has ended: nothing left to ask for after a reload
      showSummary(msg);
      break;
    case "calibration":
      onCalibration(msg);
      break;
    case "drill":
      dismissHint();
      el.summaryAgain.hidden = true;
      setRunNotice(null);
      state.drillDef = msg.drill;
      state.drillResult = null;
      el.posture.value = msg.posture || el.posture.value;
      setRunning(true);
      keepRun();
      keepStageInView();
      renderDrillBox();
      renderCards();
      break;
    case "drill_result":
      state.drillResult = msg.result;
      if (state.drillDef && msg.result.done) stopRun();
      break;
    default:
      break;
  }
}

function ack(msg) {
  if (typeof msg.id === "number" && msg.id > state.lastAcked) state.lastAcked = msg.id;
  state.lastAckAt = performance.now();
}

// ---------------------------------------------------------------- capture loop
function inFlight() {
  return state.nextId - 1 - state.lastAcked;
}

function captureTick() {
  // A track can end without its 'ended' event (stopped, or the event missed): look too.
  if (state.stream && state.stream.getVideoTracks().every((tr) => tr.readyState === "ended")) cameraLost(state.stream);
  if (!state.cameraOk) return;
  const now = performance.now();
  // A frame lost without an answer (reconnect, server restart) must not stall the loop.
  if (inFlight() > 0 && now - state.lastAckAt > 2000) state.lastAcked = state.nextId - 1;
  if (!state.wsOpen || state.encoding || inFlight() >= MAX_IN_FLIGHT) return;
  const v = el.video;
  if (v.readyState < 2 || !v.videoWidth) return;
  grabCtx.drawImage(v, 0, 0, SEND_W, SEND_H);
  const id = state.nextId++;
  grooming.frameSent(id, grab); // grooming (issue 9)
  if (state.lastAckAt === 0) state.lastAckAt = now;
  state.encoding = true;
  grab.toBlob(async (blob) => {
    state.encoding = false;
    if (!blob || !socketOpen()) return;
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    const buf = new ArrayBuffer(16 + jpeg.length);
    const dv = new DataView(buf);
    [0x50, 0x43, 0x46, 0x31].forEach((b, i) => dv.setUint8(i, b)); // "PCF1"
    dv.setUint32(4, id, true);
    dv.setFloat64(8, now, true);
    new Uint8Array(buf, 16).set(jpeg);
    state.ws.send(buf);
    state.sent += 1;
  }, "image/jpeg", JPEG_QUALITY);
  if (id % 15 === 0) measureBrightness();
}

function measureBrightness() {
  // The central half of the picture, where the person is: a dark room edge or a
  // letterbox must not trigger "too dark".
  const d = grabCtx.getImageData(SEND_W / 4, SEND_H / 4, SEND_W / 2, SEND_H / 2).data;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < d.length; i += 4 * 97) {
    sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    n += 1;
  }
  state.brightness = n ? sum / n : 255;
}

// ---------------------------------------------------------------- feedback
function onFeedback(msg) {
  const now = performance.now();
  if (typeof msg.t_capture === "number") push(state.latencies, now - msg.t_capture, 120);
  push(state.doneTimes, now, 240);
  state.done += 1;
  if (msg.timing) push(state.serverMs, msg.timing.server_ms, 120);
  state.dropped = msg.dropped || 0;
  state.last = msg;
  grooming.onFeedback(msg, el.video); // grooming (issue 9)
  if (msg.engine && state.engineOk) {
    state.engineOk = false;
    refreshNotice();
  }
  state.statuses = msg.rules || {};
  if (msg.drill) {
    state.drill = msg.drill;
    renderDrillBox();
  }
  if (msg.calibration) onCalibration({ type: "calibration", ...msg.calibration });
  for (const cue of msg.cues || []) showCue(cue);
  dropPassedCue();
  // The server repeats the last run's score on every frame after it; the meter is live
  // only while a run goes (after "Retry" a lost camera's ended run showed its score again).
  if (typeof msg.score === "number" && state.running) setText(el.score, formatScore(msg.score));
  updateFraming(msg);
  askPosture();
  renderCards();
  draw();
}

/** "Detect automatically" cannot tell standing from sitting when the legs are out of view
 * (at a laptop): after a few seconds of that, ask. The person chooses; the image never does. */
function askPosture() {
  const blind = el.posture.value === "auto" && state.running && judgesPosture()
    && Object.entries(state.statuses).some(([id, v]) => isPostureRule(id)
      && v.status === "unknown" && v.reason === "posture_unknown");
  if (!blind) {
    state.postureUnknownSince = null;
    showPostureAsk(false);
    return;
  }
  const now = performance.now();
  if (state.postureUnknownSince === null) state.postureUnknownSince = now;
  if (now - state.postureUnknownSince > POSTURE_ASK_AFTER_MS) showPostureAsk(true);
}

function isPostureRule(id) {
  return id.startsWith("standing.") || id.startsWith("sitting.");
}

/** Free practice judges the posture; a drill step only when it names a posture rule (the
 * smile drill, the grooming check judge the face: standing or sitting does not matter). */
function judgesPosture() {
  const focus = focusRules();
  if (state.drillDef && !focus) return false;  // between steps, or the drill is over
  return !focus || [...focus].some(isPostureRule);
}

/** The question sits on the picture where the framing hint is: one of them at a time. */
function showPostureAsk(on) {
  if (el.postureAsk.hidden === !on) return;
  el.postureAsk.hidden = !on;
  el.framing.classList.toggle("asking", on);
}

function choosePosture(value) {
  el.posture.value = value;
  el.posture.dispatchEvent(new Event("change"));
  showPostureAsk(false);
}

/** Write text only when it changed: an unchanged write still costs the browser a
 * style, layout and paint pass, up to 30 times a second per tab. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function push(arr, v, max) {
  arr.push(v);
  if (arr.length > max) arr.shift();
}

function formatScore(s) {
  return String(Math.round(s <= 1 ? s * 100 : s));
}

function updateFraming(msg) {
  let key = null;
  const pose = msg.pose;
  const sitting = el.posture.value === "sitting";
  // A drill step that judges only the face (a smile) wants the laptop framing: no "step back".
  const focus = focusRules();
  const body = !focus || [...focus].some((id) => !id.startsWith("face.") && !id.startsWith("grooming."));
  if (!msg.person) key = "frame_no_person";
  else if (state.brightness < 45) key = "frame_dark";
  else if (body && pose && !sitting && Math.min(pose[23][2], pose[24][2]) < 0.5) key = "frame_hips";
  else if (body && pose && sitting && Math.min(pose[11][2], pose[12][2]) < 0.5) key = "frame_hips_sitting";
  // No face while the nose is hidden: turned away. (A far full-body view may lack a
  // face too; the face detector is short-range, so that alone is no reason to nag.)
  else if (!msg.face && pose && pose[0][2] < 0.5) key = "frame_face";
  // Calibrating: the face steps want the person close, and "step back until the hips show"
  // said the opposite. The panel under the picture says what each step needs.
  if (el.calibDialog.open && (key === "frame_hips" || key === "frame_hips_sitting")) {
    el.framing.hidden = true;
    return;
  }
  if (el.framing.hidden) el.framing.hidden = false;
  // Guarded: an unguarded toggle measured slower in the 4-tab page bench (browser 23-27 vs 21-23 ms/frame).
  if (el.framing.classList.contains("ok") === Boolean(key)) el.framing.classList.toggle("ok", !key);
  setText(el.framing, t(key || "frame_ok"));
}

function showCue(cue) {
  el.cue.hidden = false;
  el.cue.textContent = cue.text;
  el.cue.className = `cue ${cue.status}`;
  state.cueRule = cue.rule_id || null;
  state.cueStatus = cue.status;
  state.lastCueAt = performance.now();
  clearTimeout(showCue.timer);
  showCue.timer = setTimeout(() => { el.cue.hidden = true; }, 4000);
  if (el.speak.checked && "speechSynthesis" in window) {
    const u = new SpeechSynthesisUtterance(cue.text);
    u.lang = lang() === "zh" ? "zh-CN" : "en-US";
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(u);
  }
  takeSnapshot(cue);
}

/** A cue is about one rule: once that rule's card says pass again, the cue goes at once
 * (a red "Uncross your arms" left for 3 s beside a green card contradicts it); so does a
 * hint (a warning) once a required rule fails ("clasp your hands in front" over crossed
 * arms pointed away from what was wrong). */
function dropPassedCue() {
  if (el.cue.hidden || !state.cueRule) return;
  const v = state.statuses[state.cueRule];
  const outranked = state.cueStatus === "warn" && Object.entries(state.statuses).some(
    ([id, s]) => id !== state.cueRule && s.status === "fail" && !isRecommended(id) && !offPack(id));
  if (!outranked && (!v || v.status !== "pass")) return;
  clearTimeout(showCue.timer);
  el.cue.hidden = true;
  state.cueRule = null;
}

/** Keep the worst moment per rule as a small JPEG from the preview (page memory only). */
function takeSnapshot(cue) {
  const prev = state.snapshots.get(cue.rule_id);
  if (prev && SEVERITY[prev.status] >= SEVERITY[cue.status]) return;
  const c = document.createElement("canvas");
  c.width = 320;
  c.height = 240;
  const ctx = c.getContext("2d");
  ctx.translate(320, 0);
  ctx.scale(-1, 1); // as the user saw it: mirrored
  ctx.drawImage(el.video, 0, 0, 320, 240);
  ctx.drawImage(el.overlay, 0, 0, 320, 240);
  const elapsed = state.running ? (performance.now() - state.runStart) / 1000 : 0;
  state.snapshots.set(cue.rule_id, {
    status: cue.status, cue, at: elapsed, url: c.toDataURL("image/jpeg", 0.75),
  });
}

// ---------------------------------------------------------------- overlay
// The overlay's size in CSS pixels, kept by a ResizeObserver: reading it with
// getBoundingClientRect() on every frame forced a layout pass each time.
const overlayBox = { width: 0, height: 0 };
if ("ResizeObserver" in window) {
  new ResizeObserver((entries) => {
    const r = entries[entries.length - 1].contentRect;
    overlayBox.width = r.width;
    overlayBox.height = r.height;
  }).observe(el.overlay);
}

function draw() {
  const c = el.overlay;
  const rect = overlayBox.width ? overlayBox : c.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(rect.width * dpr);
  const h = Math.round(rect.height * dpr);
  if (c.width !== w || c.height !== h) {
    c.width = w;
    c.height = h;
  }
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  const msg = state.last;
  if (!msg) return;
  // The video is letterboxed (object-fit: contain): map normalised coords into its box.
  const vw = el.video.videoWidth || SEND_W;
  const vh = el.video.videoHeight || SEND_H;
  const scale = Math.min(w / vw, h / vh);
  const bw = vw * scale;
  const bh = vh * scale;
  const ox = (w - bw) / 2;
  const oy = (h - bh) / 2;
  const X = (x) => ox + x * bw;
  const Y = (y) => oy + y * bh;
  ctx.lineWidth = Math.max(2, 3 * dpr);
  ctx.lineCap = "round";
  const worst = STATUS_COLOURS[worstStatus()] || "#59c3ff";
  if (msg.pose) {
    for (const [a, b] of POSE_EDGES) {
      const p = msg.pose[a];
      const q = msg.pose[b];
      if (p[2] < 0.5 || q[2] < 0.5) continue;
      ctx.strokeStyle = edgeColour(a, b) || worst;
      ctx.beginPath();
      ctx.moveTo(X(p[0]), Y(p[1]));
      ctx.lineTo(X(q[0]), Y(q[1]));
      ctx.stroke();
    }
    ctx.fillStyle = "#ffffff";
    for (const p of msg.pose) {
      if (p[2] < 0.5) continue;
      ctx.beginPath();
      ctx.arc(X(p[0]), Y(p[1]), 3 * dpr, 0, Math.PI * 2);
      ctx.fill();
    }
  }
  ctx.lineWidth = Math.max(1, 2 * dpr);
  for (const hand of msg.hands || []) {
    ctx.strokeStyle = hand.side === "left" ? "#7ee0ff" : "#ffd36e";
    for (const [a, b] of HAND_EDGES) {
      ctx.beginPath();
      ctx.moveTo(X(hand.lm[a][0]), Y(hand.lm[a][1]));
      ctx.lineTo(X(hand.lm[b][0]), Y(hand.lm[b][1]));
      ctx.stroke();
    }
  }
  if (msg.face) {
    ctx.strokeStyle = "#ff8ad8";
    for (const key of ["lips", "left_eye", "right_eye"]) {
      const pts = msg.face[key];
      if (!pts || !pts.length) continue;
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.closePath();
      ctx.stroke();
    }
  }
}

/** The colour of the rule a skeleton line stands for (grey while it cannot judge); null for
 * a line no rule is about. Of the standing and the seated rule, the one judging now. */
function edgeColour(a, b) {
  const ids = (EDGE_RULES.get(`${a},${b}`) || []).filter((id) => state.statuses[id] && !offPack(id));
  if (!ids.length) return null;
  const judged = ids.find((id) => state.statuses[id].status !== "unknown") || ids[0];
  return STATUS_COLOURS[state.statuses[judged].status] || STATUS_COLOURS.unknown;
}

/** The skeleton's colour: the worst status of the required rules. A recommended behaviour
 * (hands clasped in front, a smile) only warns on its card; it never tints the whole body
 * amber as if the posture were wrong. */
function worstStatus() {
  let worst = "pass";
  let any = false;
  for (const [id, v] of Object.entries(state.statuses)) {
    if (v.status === "unknown" || isRecommended(id) || offPack(id)) continue;
    any = true;
    if (SEVERITY[v.status] > SEVERITY[worst]) worst = v.status;
  }
  return any ? worst : "unknown";
}

// ---------------------------------------------------------------- rule cards
function isRecommended(id) {
  const r = state.rules.get(id);
  return Boolean(r && r.recommended);
}

function focusRules() {
  if (!state.drillDef || !state.drill || state.drill.done) return null;
  const step = state.drillDef.steps[state.drill.step];
  return step ? new Set(step.rules) : null;
}

/** Rules of the other posture pack are noise ("not sitting"): hide them. */
function offPack(id) {
  const p = el.posture.value;
  return (p === "standing" && id.startsWith("sitting.")) || (p === "sitting" && id.startsWith("standing."));
}

function renderCards() {
  const focus = focusRules();
  const ids = new Set([...state.rules.keys(), ...Object.keys(state.statuses)]
    .filter((id) => !offPack(id)));
  if (focus) for (const id of focus) ids.add(id);
  // "Detect automatically" standing: the seated rules say "not sitting" (and the other way
  // round). A dozen grey cards saying so hid the ones that matter: one line says how many.
  const offPosture = [...ids].filter((id) => notThisPosture(id) && !(focus && focus.has(id)));
  for (const id of offPosture) ids.delete(id);
  // At a laptop (legs out of view) "Detect automatically" cannot tell standing from sitting:
  // a dozen cards repeated the same long reason. One line at the top says what to do; the
  // cards are folded as the other posture's are (a drill step's own rules stay).
  const blind = [...ids].filter((id) => postureUnknown(id) && !(focus && focus.has(id)));
  const foldBlind = blind.length >= 3;
  if (foldBlind) for (const id of blind) ids.delete(id);
  // Before any practice starts the cards are a preview: nothing is scored yet.
  const preview = !state.running && Boolean(state.last);
  el.cards.classList.toggle("preview", preview);
  // During a drill step, its rules come first (the rest are dimmed below them).
  const ordered = focus ? [...ids].sort((a, b) => Number(focus.has(b)) - Number(focus.has(a))) : [...ids];
  // Feedback arrives up to 30 times a second but cards rarely change: rebuild the list
  // only when what it shows changed (the browser then has no style/layout work to do).
  const shown = [lang(), state.rules.size, focus ? [...focus].join() : "", state.engineOk, Boolean(state.last)];
  for (const id of ordered) {
    const v = state.statuses[id];
    shown.push(id, v ? v.status : "-", v && v.status === "unknown" ? v.reason : "");
  }
  shown.push(offPosture.join(), foldBlind ? blind.join() : "", preview);
  const key = shown.join("|");
  if (key === renderCards.lastKey) return;
  renderCards.lastKey = key;
  const frag = document.createDocumentFragment();
  if (preview) {
    frag.append(Object.assign(document.createElement("li"), {
      className: "cards-preview", textContent: t("cards_preview"),
    }));
  }
  const blindLine = () => {
    const li = document.createElement("li");
    li.className = "card unknown posture-unknown";
    li.textContent = t("cards_posture_unknown") + t("cards_posture_unknown_n", { n: blind.length });
    li.title = blind.map(ruleTitle).join(lang() === "zh" ? "、" : ", ");
    return li;
  };
  // At the top; in a drill step its own cards come first (a smile step minds no posture).
  if (foldBlind && !focus) frag.append(blindLine());
  for (const id of ordered) {
    const v = state.statuses[id];
    const known = state.rules.has(id);
    // A grooming rule is judged only in a grooming step: outside one it has no verdict, and
    // "等待画面" beside a good picture read as a fault. It says where it is judged instead.
    // In the grooming step itself a rule without a verdict yet is just not assessable (yet).
    const groomingIdle = !v && Boolean(state.last) && id.startsWith("grooming.");
    const groomingStep = Boolean(focus) && [...focus].some((f) => f.startsWith("grooming."));
    const status = v ? v.status : "unknown";
    const li = document.createElement("li");
    li.className = `card ${status}`;
    if (focus) li.classList.add(focus.has(id) ? "focus" : "dim");
    li.dataset.rule = id;
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = ruleTitle(id);
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = t(v || groomingIdle ? `status_${status}` : "status_idle");
    li.append(title, badge);
    let reason = "";
    if (!known) reason = t("not_assessable_yet");
    else if (v && status === "unknown") reason = reasonText(v.reason);
    else if (!v && state.last && !state.engineOk) reason = t("engine_missing");
    else if (groomingIdle && !groomingStep) reason = t("grooming_step_only");
    if (reason) {
      const r = document.createElement("span");
      r.className = "reason";
      r.textContent = reason;
      li.append(r);
    }
    frag.append(li);
  }
  if (foldBlind && focus) frag.append(blindLine());
  if (offPosture.length) {
    const li = document.createElement("li");
    li.className = "card unknown off-posture";
    li.textContent = t("cards_off_posture", { n: offPosture.length });
    li.title = offPosture.map(ruleTitle).join(lang() === "zh" ? "、" : ", ");
    frag.append(li);
  }
  el.cards.replaceChildren(frag);
  renderAlerts(focus ? ordered.filter((id) => focus.has(id)) : ordered);
}

/** Under the timer and the score, the rules failing or needing attention now, worst first:
 * in a small window (CSS shows it there only) they are in view with the picture even when
 * their cards are further down the list. */
function renderAlerts(ids) {
  const bad = ids.filter((id) => state.statuses[id] && ["fail", "warn"].includes(state.statuses[id].status))
    .sort((a, b) => SEVERITY[state.statuses[b].status] - SEVERITY[state.statuses[a].status]);
  const frag = document.createDocumentFragment();
  for (const id of bad.slice(0, 4)) {
    const status = state.statuses[id].status;
    const li = Object.assign(document.createElement("li"), { className: `alert ${status}` });
    li.dataset.rule = id;
    li.append(Object.assign(document.createElement("span"), { textContent: ruleTitle(id) }),
      Object.assign(document.createElement("b"), { textContent: t(`status_${status}`) }));
    frag.append(li);
  }
  el.alerts.replaceChildren(frag);
  el.alerts.hidden = !bad.length;
}

/** A standing or sitting rule that cannot judge because the posture cannot be told (now). */
function postureUnknown(id) {
  const v = state.statuses[id];
  return el.posture.value === "auto" && isPostureRule(id) && Boolean(v) && v.status === "unknown"
    && v.reason === "posture_unknown";
}

/** A rule the automatic posture detection says is for the other posture (now). */
function notThisPosture(id) {
  const v = state.statuses[id];
  return el.posture.value === "auto" && Boolean(v) && v.status === "unknown"
    && (v.reason === "not_sitting" || v.reason === "not_standing");
}

// ---------------------------------------------------------------- session, timer
function setRunning(on) {
  state.running = on;
  updateButtons();
  state.postureUnknownSince = null;
  showPostureAsk(false);
  if (on) {
    state.stopRequested = false;
    state.cameraLostRun = false;
    state.runStart = performance.now();
    state.snapshots.clear();
    el.score.textContent = "–";
  }
}

/** End the practice (Stop, a drill's end, a lost camera): the server answers with the summary. */
function stopRun() {
  if (!state.running || state.stopRequested) return;
  state.stopRequested = true;
  send({ type: "stop" });
}

function tickTimer() {
  if (!state.running) return;
  const s = Math.floor((performance.now() - state.runStart) / 1000);
  setText(el.timer, `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`);
}

function tickDebug() {
  const now = performance.now();
  const recent = state.doneTimes.filter((x) => now - x < 2000);
  const fps = recent.length / 2;
  const sorted = [...state.latencies].sort((a, b) => a - b);
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  const srv = [...state.serverMs].sort((a, b) => a - b);
  setText($("dbg-fps"), fps.toFixed(1));
  setText($("dbg-lat"), sorted.length ? `${q(0.5).toFixed(0)} / ${q(0.95).toFixed(0)} ms` : "–");
  setText($("dbg-server"), srv.length ? `${srv[Math.floor(srv.length / 2)].toFixed(0)} ms` : "–");
  setText($("dbg-dropped"), String(state.dropped));
  setText($("dbg-inflight"), String(inFlight()));
  setText($("dbg-sent"), String(state.sent));
  // Exposed for the end-to-end test and curious users.
  window.__coachStats = { fps, p50: q(0.5), p95: q(0.95), sent: state.sent, processed: state.doneTimes.length, done: state.done };
}

function refreshNotice() {
  const msgs = [];
  if (!state.modelsOk) msgs.push(t("models_missing"));
  else if (!state.engineOk) msgs.push(t("engine_missing"));
  el.notice.hidden = msgs.length === 0;
  el.notice.textContent = msgs.join(" ");
}

// ---------------------------------------------------------------- drills
function renderDrillOptions() {
  const selected = el.drill.value;
  const opts = [];
  // The onboarding self-check first, said to be the one HR counts; then the drills.
  const drills = [...state.drills.values()].sort((a, b) => (b.id === "onboarding") - (a.id === "onboarding"));
  for (const d of drills) {
    const o = document.createElement("option");
    o.value = d.id;
    const title = pick(d, "title");
    // "坐姿 20 秒" already says how long: no "（20 秒）" after it. In Chinese, full-width
    // brackets: "入职自检场景（64 秒）——计入培训班结果".
    const secs = `${Math.round(d.duration_s)} ${t("sec")}`;
    const said = /\d\s*(秒|s\b|seconds?)/.test(title);
    // A title already in brackets takes the length inside them: "微笑练习（三米六齿，15 秒）".
    const named = said ? title : /[)）]$/.test(title)
      ? `${title.slice(0, -1)}${lang() === "zh" ? "，" : ", "}${secs}${title.slice(-1)}` : `${title}${paren(secs)}`;
    const counts = d.id === "onboarding" ? `${lang() === "zh" ? "——" : " — "}${t("drill_counts")}` : "";
    o.textContent = `${named}${counts}`;
    opts.push(o);
  }
  el.drill.replaceChildren(...opts);
  if (selected) el.drill.value = selected;
  const d = state.drills.get(el.drill.value);
  el.drillSummary.textContent = d ? pick(d, "summary") : "";
}

function renderDrillBox() {
  const def = state.drillDef;
  const st = state.drill;
  if (!def || !st || st.done || !state.running) {
    el.drillbox.hidden = true;
    return;
  }
  const step = def.steps[st.step];
  el.drillbox.hidden = false;
  $("drill-step").textContent = `${t("step")} ${st.step + 1}/${st.steps} · ${pick(step, "title")}`;
  $("drill-instr").textContent = pick(step, "instruction");
  let text = t("seconds_left", { s: Math.max(1, Math.ceil(st.step_left_s)) });  // never "剩余 0 秒"
  const unassessable = step.rules.filter((r) => !state.rules.has(r));
  if (step.rules.length && unassessable.length === step.rules.length) text += ` · ${t("not_assessable_yet")}`;
  const tm = st.timing;  // "smile within 2 s, hold it": live progress of the timed rule
  if (tm) {
    const inStep = step.duration_s ? step.duration_s - st.step_left_s : 0;
    const wait = inStep > tm.within_s ? t("timing_late", { within: tm.within_s, hold: tm.hold_s })
      : t("timing_wait", { within: tm.within_s });
    text += ` · ${ruleTitle(tm.rule)}${colon()}${tm.onset_s === null
      ? wait
      : t("timing_live", { held: Math.max(tm.holding_s, tm.held_s).toFixed(1), hold: tm.hold_s })}`;
  }
  // No scrolling to the grooming panel here: it sits beside the picture, and scrolling to
  // it took the picture (and the face it checks) off screen for the rest of the run.
  $("drill-left").textContent = text;
  $("drill-progress").value = step.duration_s ? 1 - st.step_left_s / step.duration_s : 0;
}

// ---------------------------------------------------------------- calibration
function openCalibration() {
  stopCountdown();
  state.calibPhase = 0;
  state.calibSkipped = false;
  el.calibSkip.hidden = true;
  el.calibGo.hidden = false;
  $("calib-close").textContent = t("cancel");
  el.calibProgress.value = 0;
  el.calibStatus.textContent = "";
  el.calibStep.textContent = t(`calib_step_${CALIB_PHASES[0]}`);
  el.calibGo.disabled = false;
  el.calibGo.textContent = t("calib_ready");
  // Not modal, and under the picture rather than over it: the person sees their framing
  // while it records. Nothing else starts meanwhile (updateButtons).
  el.calibDialog.show();
  updateButtons();
  el.calibDialog.scrollIntoView({ block: "nearest" });
}

const CALIB_COUNTDOWN_S = 3;

/** "I'm ready": 3, 2, 1, then the step records (the server hears the same calibrate_start
 * as before, only 3 s later): time to settle into the pose after the click. */
function startCountdown() {
  stopCountdown();
  el.calibGo.disabled = true;
  el.calibSkip.hidden = true;
  state.calibCount = CALIB_COUNTDOWN_S;
  const tick = () => {
    if (state.calibPhase < 0 || !el.calibDialog.open) {
      stopCountdown();
    } else if (state.calibCount <= 0) {
      stopCountdown();
      el.calibStatus.textContent = t("calib_collecting");
      send({ type: "calibrate_start", phase: CALIB_PHASES[state.calibPhase] });
    } else {
      el.calibStatus.textContent = t("calib_countdown", { n: state.calibCount });
      el.calibStatus.classList.add("countdown");
      state.calibTimer = setTimeout(tick, 1000);
      state.calibCount -= 1;
    }
  };
  tick();
}

function stopCountdown() {
  clearTimeout(state.calibTimer);
  state.calibTimer = 0;
  state.calibCount = 0;
  el.calibStatus.classList.remove("countdown");
}

function closeCalibration() {
  stopCountdown();
  state.calibPhase = -1;
  const wasOpen = el.calibDialog.open;
  el.calibDialog.close();
  updateButtons();
  if (wasOpen) showStageTop();
}

/** The calibration status changed (a failure, a result): its buttons ("准备好了", "跳过面部
 * 步骤", "关闭") stay in view; at 1366×768 the grown panel pushed them under the window's edge. */
function setCalibStatus(text) {
  el.calibStatus.textContent = text;
  if (!el.calibDialog.open) return;
  requestAnimationFrame(() => {
    // The panel's bottom edge (its buttons) in view with a small margin, never further.
    const r = el.calibDialog.getBoundingClientRect();
    const over = r.bottom + 12 - window.innerHeight;
    if (over > 0) window.scrollBy({ top: Math.min(over, Math.max(0, r.top)) });
  });
}

/** After the calibration panel closes: back to the top of the picture (the page stayed
 * scrolled down to the panel, the title clipped), the whole page top when it fits. */
function showStageTop() {
  const r = el.stage.getBoundingClientRect();
  const top = r.top + window.scrollY;
  const bottom = r.bottom + window.scrollY;
  window.scrollTo({ top: bottom <= window.innerHeight ? 0 : Math.max(0, top - 8) });
}

function onCalibration(msg) {
  if (msg.status === "restored") {  // the baseline this browser kept is in use again
    state.profileInUse = true;
    state.calibNote = null;
    renderCalibKept();
    return;
  }
  if (state.calibPhase < 0) return;
  if (msg.status === "collecting") {
    el.calibProgress.value = msg.progress || 0;
    el.calibStatus.textContent = t("calib_collecting");
    el.calibSkip.hidden = true;
  } else if (msg.status === "collected") {
    el.calibProgress.value = 1;
    state.calibPhase += 1;
    if (state.calibPhase >= CALIB_PHASES.length) {
      send({ type: "calibrate_finish" });
    } else {
      el.calibStep.textContent = t(`calib_step_${CALIB_PHASES[state.calibPhase]}`);
      setCalibStatus("");
      el.calibProgress.value = 0;
      el.calibGo.disabled = false;
      // The intro says a full-body stance may stop after step 1: the way to do so is there.
      el.calibSkip.hidden = false;
    }
  } else if (msg.status === "done") {
    // What the smile step gave: a gentle natural smile now counts, or no smile was read.
    // Sentences joined without a space in Chinese ("…个人基准。您自然的微笑…").
    const gap = lang() === "zh" ? "" : " ";
    const smile = !state.calibSkipped && ["personal", "not_seen"].includes(msg.smile) ? `${gap}${t(`calib_smile_${msg.smile}`)}` : "";
    // The step line said "第 3 步：…" under "校准完成": it now says the steps are done.
    el.calibStep.textContent = t(state.calibSkipped ? "calib_body_done" : "calib_all_done");
    setCalibStatus(t(state.calibSkipped ? "calib_done_body" : "calib_done") + smile);
    el.calibGo.hidden = true;  // nothing more to do here: the one button left closes it
    el.calibSkip.hidden = true;
    $("calib-close").textContent = t("close");
    state.calibPhase = -1;
    keepProfile(msg.profile);
  } else if (msg.status === "failed") {
    const why = { moving: "calib_failed_moving", not_neutral: "calib_failed_not_neutral", no_face: "calib_failed_no_face" };
    setCalibStatus(t(why[msg.reason] || "calib_failed"));
    el.calibProgress.value = 0;  // the step starts again from nothing: a full bar said "done"
    state.calibPhase = Math.min(state.calibPhase, CALIB_PHASES.length - 1);
    // Standing back for the whole body leaves the face too small to read: the body's
    // baseline (the neutral step) can still be had without the face steps.
    el.calibSkip.hidden = !(state.calibPhase > 0);
    el.calibGo.disabled = false;
  }
}

/** Skip the face and smile steps: the server builds a body-only baseline from the neutral step. */
function skipFaceSteps() {
  state.calibSkipped = true;
  el.calibSkip.hidden = true;
  el.calibGo.disabled = true;
  send({ type: "calibrate_finish" });
}

/** A new baseline's numbers (no picture) stay in this browser, dated, for the next visit. */
function keepProfile(profile) {
  state.calibNote = null;
  if (profile && typeof profile === "object") {
    localStorage.setItem(PROFILE_KEY, JSON.stringify({ profile, saved_at: new Date().toISOString() }));
    state.profileInUse = true;
  }
  renderCalibKept();
}

// ---------------------------------------------------------------- summary
function showSummary(msg) {
  setRunning(false);
  el.drillbox.hidden = true;
  const body = el.summaryBody;
  body.replaceChildren();
  const add = (tag, text, cls) => {
    const n = document.createElement(tag);
    if (text !== undefined) n.textContent = text;
    if (cls) n.className = cls;
    body.append(n);
    return n;
  };
  if (msg.recovered) add("p", t(state.recoverCause === "reload" ? "summary_reloaded" : "summary_recovered"), "notice");
  const cameraLost = state.cameraLostRun;
  if (cameraLost) add("p", t("summary_camera_lost"), "notice");
  state.cameraLostRun = false;
  // A drill or scenario is passed or not: that comes first, the score after it, and a
  // "not passed" says why (which step, which rule) before an "overall 90" puzzles anyone.
  const drillId = state.drillResult ? state.drillResult.id : state.drillDef ? state.drillDef.id : null;
  // Ended before its end (Stop, a lost camera, a reload or a dropped connection): not the
  // same as a run that went to its end with steps that showed nothing.
  const stoppedEarly = state.drillResult ? !state.drillResult.done : cameraLost || Boolean(msg.recovered);
  // Not finished either way (stopped early, or a scenario step that showed nothing): no praise.
  const unfinished = stoppedEarly || Boolean(state.drillResult && drillOutcome(state.drillResult) === "incomplete");
  if (state.drillResult) {
    const outcome = drillOutcome(state.drillResult);
    const drill = state.drills.get(state.drillResult.id);
    const word = outcome === "incomplete" && !stoppedEarly ? "incomplete_not_seen" : outcome;
    add("p", `${drill ? pick(drill, "title") + colon() : ""}${t(`drill_outcome_${word}`)}`,
      `drill-outcome ${outcome}`);
    const why = drillWhy(state.drillResult, outcome);
    if (why.length) {
      const ul = add("ul", undefined, "drill-why");
      for (const line of why) ul.append(Object.assign(document.createElement("li"), { textContent: line }));
    }
  }
  const perRule = ruleResults(msg.summary);
  const nothingJudged = perRule.length > 0 && perRule.every((r) => r.score === null);
  const topReason = ((msg.summary && msg.summary.top_reasons) || [])[0];
  const nobody = nothingJudged && topReason && topReason.reason === "no_person";
  if (typeof msg.score === "number") {
    // The live score beside it ends on the run's own score (it was up to a second old).
    setText(el.score, formatScore(msg.score));
    add("p", `${t("summary_overall")}${colon()}`).append(Object.assign(document.createElement("span"), {
      className: "summary-score", textContent: formatScore(msg.score),
    }));
    add("p", t("summary_score_explain"), "score-explain");
    // "未通过" above "总得分：90": why both hold.
    if (state.drillResult && drillOutcome(state.drillResult) === "fail") add("p", t("summary_fail_explain"), "score-explain");
  } else if (!msg.engine) {
    add("p", t("summary_engine_missing"));
  }
  // Nothing judged: why comes first, not under a long table of "can't judge". Nobody in view
  // is said as such; choosing a rule pack would not have helped.
  if (nothingJudged) {
    add("p", nobody ? t("summary_nothing_judged_nobody")
      : t("summary_nothing_judged", { reason: topReason ? reasonText(topReason.reason) : "" }), "notice");
  }
  add("p", `${t("summary_duration")}${colon()}${msg.elapsed_s} ${t("sec")}`);

  if (perRule.length) {
    add("h3", t("summary_rules"));
    // Rules that never applied (no handshake happened, the person never sat) go in a
    // folded list: they are not failures to see, and a long "can't judge" list hides
    // the results that matter. In a drill, the drill's own rules are the table and every
    // other rule is folded ("Other rules (N)"): face rules "can't judge" in a stance drill.
    // A rule outside the drill that failed stays in the table, marked as outside it: folded,
    // the run read as clean while the saved record called it the main problem.
    const own = drillRuleIds(drillId);
    const outside = (r) => Boolean(own) && !own.has(r.id);
    const idle = perRule.filter((r) => (own ? outside(r) && r.status !== "fail" : r.notApplied));
    const shown = perRule.filter((r) => !idle.includes(r));
    const drillKind = drillId && state.drills.get(drillId) ? state.drills.get(drillId).kind : null;
    const fill = (table, rows) => {
      for (const r of rows) {
        const tr = table.insertRow();
        tr.insertCell().textContent = ruleTitle(r.id)
          + (outside(r) && !idle.includes(r) ? t(drillKind === "scenario" ? "outside_scenario" : "outside_drill") : "");
        const c = tr.insertCell();
        c.className = `outcome ${r.status}`;
        // The word with the number ("未通过 · 54"): a red 54 alone never said "not passed".
        c.textContent = r.score !== null ? `${t(`status_${r.status}`)} · ${formatScore(r.score)}` : t(`status_${r.status}`);
        // A score says how long it rests on: 100 from two seconds seen is not 100 from a minute.
        tr.insertCell().textContent = r.score === null ? (r.reason ? reasonText(r.reason) : "") : judgedOn(r);
      }
    };
    fill(add("table", undefined, "result-table"), shown);
    if (idle.length) {
      const box = add("details", undefined, own ? "not-practised other-rules" : "not-practised");
      const eg = own ? "" : idleExamples(idle);
      box.append(Object.assign(document.createElement("summary"), {
        textContent: own ? t("summary_other_rules", { n: idle.length })
          : t(eg ? "summary_not_practised_eg" : "summary_not_practised", { n: idle.length, eg }),
      }));
      const table = document.createElement("table");
      table.className = "result-table";
      box.append(table);
      fill(table, idle);
    }
  }
  if (state.drillResult) renderDrillResult(add, state.drillResult);

  add("h3", t("summary_worst"));
  const judged = perRule.some((r) => r.score !== null) || !perRule.length;
  if (state.snapshots.size) {
    const grid = add("div", undefined, "snaps");
    const items = [...state.snapshots.entries()].sort((a, b) => SEVERITY[b[1].status] - SEVERITY[a[1].status]);
    for (const [id, s] of items.slice(0, 6)) {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.src = s.url;
      const text = pick(s.cue, "text") || s.cue.text; // in the page's language now
      img.alt = `${ruleTitle(id)} – ${text}`;
      const cap = document.createElement("figcaption");
      // The cue only where it says more than the rule's name ("面带微笑 · 5.0 秒 · 面带微笑").
      const says = text && text.replace(/[。.！!]$/, "") !== ruleTitle(id) ? ` · ${text}` : "";
      cap.textContent = `${ruleTitle(id)} · ${s.at.toFixed(1)} ${t("sec")}${says}`;
      fig.append(img, cap);
      grid.append(fig);
    }
  } else {
    // "Well done" only when nothing was judged weak: issues too brief to trigger a cue
    // (or judged only at the drill's end) leave no snapshot, but they are not "none".
    const weak = perRule.some((r) => r.status === "fail" || r.status === "warn")
      || (state.drillResult && state.drillResult.steps.some((st) => st.outcome === "fail" || st.outcome === "warn"));
    // No praise for a run that did not finish (a camera lost at 4 s is no "well done").
    add("p", t(!judged ? "summary_worst_unjudged" : weak ? "summary_worst_no_snap"
      : unfinished ? "summary_incomplete_no_praise" : "summary_worst_none"));
  }

  add("h3", t("summary_next"));
  const next = practiseNext(perRule);
  if (next.length) {
    const ul = add("ul");
    for (const n of next) {
      const li = document.createElement("li");
      li.textContent = n;
      ul.append(li);
    }
  } else if (unfinished && judged) {
    // Not "move on to the self-check" after a run cut short: the same practice again.
    const d = drillId ? state.drills.get(drillId) : null;
    const name = d ? quoteTitle(pick(d, "title")) : "";
    const again = cameraLost ? "summary_next_again_camera" : stoppedEarly ? "summary_next_again" : "summary_next_again_not_seen";
    add("p", d ? t(again, { drill: name })
      : t(cameraLost ? "summary_next_again_free_camera" : "summary_next_again_free"));
  } else {
    add("p", t(judged ? "summary_next_none" : nobody ? "summary_next_nobody" : "summary_next_framing"));
  }
  // A recovered run is saved under the connection that ran it.
  const liveId = msg.recovered ? msg.live_id : state.liveId;
  const token = msg.recovered ? msg.save_token : state.saveToken;
  if (msg.can_save && token) addSaveBox(add, liveId, token, stoppedEarly);
  // "Try again": the same drill once more, straight from its summary; after free practice,
  // another free practice (a run recovered after a reload has nothing to repeat here).
  el.summaryAgain.hidden = drillId ? !state.drills.has(drillId) : Boolean(msg.recovered);
  el.summaryAgain.dataset.drill = drillId || "";
  updateButtons();
  state.drillDef = null;
  state.drill = null;
  if (!el.summaryDialog.open) el.summaryDialog.showModal();
  // Open at the top (the score), not scrolled to the first button the browser focuses.
  $("summary-title").focus({ preventScroll: true });
  el.summaryDialog.scrollTop = 0;
}

/** Sign in without leaving the summary (the same login as the review page), then retry. */
function signInForm(row, status, retry) {
  if (row.querySelector("form")) return;
  const form = document.createElement("form");
  form.className = "save-login";
  const field = (key, type, auto) => {
    const label = Object.assign(document.createElement("label"), { textContent: t(key) });
    const input = Object.assign(document.createElement("input"), { type, required: true, autocomplete: auto });
    input.name = key;
    label.append(input);
    form.append(label);
    return input;
  };
  const user = field("save_user", "text", "username");
  const pass = field("save_password", "password", "current-password");
  const go = Object.assign(document.createElement("button"), { type: "submit", textContent: t("save_sign_in_go") });
  form.append(go);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    go.disabled = true;
    try {
      const r = await fetch("/api/auth/login", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: user.value, password: pass.value }),
      });
      if (!r.ok) {
        status.textContent = await refusalText(r);
        return;
      }
      form.remove();
      refreshWho();  // the page's "signed in as" line follows this sign-in
      retry();
    } catch (err) {
      status.textContent = t("save_failed", { reason: String(err) });
    } finally {
      go.disabled = false;
      pass.value = "";
    }
  });
  row.after(form);
  user.focus();
}

/** What a refused sign-in or save says: the server's own reason (too many sign-ins, a
 * disabled login…); "no record store" only when that is the reason (no store: 503, or the
 * routes missing: 404); a wrong password in the page's words. */
async function refusalText(r) {
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 && (!body.reason || body.reason === "wrong_login")) return t("save_login_wrong");
  const text = body.reason_text && (body.reason_text[lang()] || body.reason_text.en);
  if (text) return text;
  if (r.status === 503 || r.status === 404) return t("save_unavailable");
  const detail = typeof body.detail === "string" ? body.detail : `HTTP ${r.status}`;
  return t("save_failed", { reason: detail });
}

/** "Save to my record": a signed-in trainee keeps this run's results (never frames). */
function addSaveBox(add, liveId, token, stoppedEarly = false) {
  add("h3", t("save_heading"));
  add("p", t("save_note"), "save-note");
  const row = add("div", undefined, "save-row");
  const btn = Object.assign(document.createElement("button"), { type: "button", textContent: t("save_button") });
  btn.id = "save-run";
  const status = Object.assign(document.createElement("p"), { className: "save-status" });
  status.setAttribute("role", "status");
  row.append(btn, status);
  const link = (href, key) => Object.assign(document.createElement("a"), {
    href, target: "_blank", rel: "noopener", textContent: t(key),
  });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    status.textContent = t("save_saving");
    try {
      // Who is signed in, 200 either way (no 401 logged): nobody gets the sign-in form.
      const me = await fetch("/api/auth/status", { credentials: "same-origin" });
      if (!me.ok) {
        status.textContent = await refusalText(me);
        return;
      }
      const who = await me.json();
      if (!who.user) {
        status.textContent = t("save_sign_in");
        signInForm(row, status, () => btn.click());
        return;
      }
      if (who.user.role !== "trainee") {
        status.textContent = t("save_not_trainee", { user: who.user.username });
        return;
      }
      const r = await fetch(`/api/live/${liveId}/save`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": who.csrf_token },
        body: JSON.stringify({ token }),
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) {
        const why = (body.reason_text && body.reason_text[lang()]) || body.detail || `HTTP ${r.status}`;
        status.textContent = t("save_failed", { reason: why });
        return;
      }
      const gap = lang() === "zh" ? "" : " ";  // Chinese sentences follow each other without a space
      status.textContent = `${t("save_done")}${gap}`;
      status.append(link(`/api/sessions/${body.session_id}/report?lang=${lang()}&tz=${encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone || "")}`, "save_open_report"));
      // The onboarding self-check: the result HR sees in the cohort, said to the trainee too.
      for (const c of body.self_check || []) {
        const line = document.createElement("span");
        line.className = `self-check ${c.result}`;
        // Incomplete says why: stopped before the end, or steps that showed nothing (the
        // run went to its end: "stopped early" told a trainee who did all 64 s they quit).
        const missing = (c.missing_steps || []).map((st) => pick(st, "title")).filter(Boolean);
        const notSeen = c.result === "incomplete" && missing.length && !stoppedEarly;
        line.textContent = t(notSeen ? "self_check_incomplete_not_seen" : `self_check_${c.result}`,
          { cohort: c.cohort, mark: Math.round(100 * c.pass_score), steps: missing.join(lang() === "zh" ? "、" : ", ") })
          + (c.result === "failed" && c.not_passed.length ? `${gap}${t("self_check_rules", { n: c.not_passed.length })}` : "")
          + (c.counted ? "" : `${gap}${t("self_check_not_counted")}`);
        status.append(line);
      }
      btn.hidden = true;
    } catch (err) {
      status.textContent = t("save_failed", { reason: String(err) });
    } finally {
      btn.disabled = false;
    }
  });
}

/** A drill's outcome: the server's word for it where it gives one, else stopped before its
 * end, nothing judged, or the worst of its steps. */
function drillOutcome(result) {
  if (["pass", "warn", "fail", "incomplete", "not_assessable"].includes(result.outcome)) return result.outcome;
  if (!result.done) return "incomplete";
  const judged = result.steps.map((st) => st.outcome).filter((o) => ["pass", "warn", "fail"].includes(o));
  if (!judged.length) return "not_assessable";
  return judged.includes("fail") ? "fail" : judged.includes("warn") ? "warn" : "pass";
}

// What a rule that never applied was waiting for, by its id: the examples of the folded
// "not practised" list come from the rules in it (no "no sitting" in the sitting drill).
const IDLE_EXAMPLES = [
  ["handshake.", "idle_handshake"], ["handover.", "idle_handover"], ["greeting.bow", "idle_bow"],
  ["gesture.open_palm", "idle_pointing"], ["sitting.", "idle_sitting"], ["standing.", "idle_standing"],
  ["grooming.", "idle_grooming"],
];

function idleExamples(idle) {
  const keys = [];
  for (const [prefix, key] of IDLE_EXAMPLES) {
    if (idle.some((r) => r.id.startsWith(prefix)) && !keys.includes(key)) keys.push(key);
  }
  return keys.slice(0, 2).map((k) => t(k)).join(t("idle_or"));
}

/** Every rule a drill judges or times (its steps' rules and timed rules); null: no such drill. */
function drillRuleIds(id) {
  const d = id ? state.drills.get(id) : null;
  if (!d) return null;
  const ids = new Set();
  for (const st of d.steps || []) {
    for (const r of st.rules || []) ids.add(r);
    if (st.timing && st.timing.rule) ids.add(st.timing.rule);
  }
  return ids;
}

/** Why a drill did not pass, a line per step that did not: the rules that failed (or, for
 * a warning, need attention), the actions not seen, a late or missing timed smile, and for
 * a step nothing could judge, the rules and why. Empty for a pass or a run stopped early
 * (the headline says that already). */
function drillWhy(result, outcome) {
  const list = (items) => items.join(lang() === "zh" ? "、" : ", ");
  if (outcome === "incomplete") {
    const notSeen = result.done ? result.steps_not_seen || [] : [];
    return notSeen.length ? [t("why_not_seen", { steps: list(notSeen.map((st) => pick(st, "title"))) })] : [];
  }
  if (!["fail", "warn", "not_assessable"].includes(outcome)) return [];
  const lines = [];
  for (const step of result.steps || []) {
    if (step.outcome !== outcome) continue;
    const parts = [];
    const rules = Object.entries(step.rules || {});
    if (outcome === "not_assessable") {
      const blind = rules.filter(([, r]) => r.outcome === "not_assessable");
      const reasons = [...new Set(blind.map(([, r]) => r.reason).filter(Boolean))].map(reasonText);
      if (blind.length) parts.push(t("why_rules_unjudged", { rules: list(blind.map(([id]) => whyTitle(id))) })
        + (reasons.length ? paren(reasons[0]) : ""));
    } else {
      // Required rules first: a recommended one only warns on its own, said as such.
      const bad = rules.filter(([, r]) => r.outcome === outcome)
        .sort(([a], [b]) => Number(isRecommended(a)) - Number(isRecommended(b)));
      if (bad.length) parts.push(t(outcome === "fail" ? "why_rules_fail" : "why_rules_warn",
        { rules: list(bad.map(([id]) => whyTitle(id))) }));
    }
    if (step.missing_events && step.missing_events.length) {
      parts.push(t("missing_events") + list(step.missing_events.map((e) => t(`event_${e}`))));
    }
    const tm = step.timing;
    if (tm && tm.outcome === outcome && outcome !== "not_assessable") {
      parts.push(`${timingTitle(tm.rule)}${colon()}${tm.onset_s === null ? t("timing_never", { within: tm.within_s })
        : t("timing_note", { onset: tm.onset_s.toFixed(1), within: tm.within_s, held: tm.held_s.toFixed(1), hold: tm.hold_s })}`);
    }
    if (parts.length) lines.push(t("why_step", { step: pick(step, "title"), why: parts.join(lang() === "zh" ? "；" : "; ") }));
  }
  return lines.slice(0, 4);
}

/** A rule's title in a "why" line, marked when it is only recommended (unless it says so). */
function whyTitle(id) {
  const title = ruleTitle(id);
  return isRecommended(id) && !/recommended|建议|推荐/i.test(title) ? `${title}${t("why_recommended")}` : title;
}

/** The label of a timed rule's timing ("微笑时机"), not the rule's own name: the step table
 * lists the smile rule's outcome too, and both read "面带微笑". */
function timingTitle(id) {
  const key = `timing_title_${id.replace(/\W/g, "_")}`;
  return t(key) !== key ? t(key) : t("timing_title", { rule: ruleTitle(id) });
}

/** What a rule's score rests on: events for an event rule, else the seconds judged,
 *  said plainly when they are too few to rely on. */
function judgedOn(r) {
  if (r.events !== null) return t("judged_events", { n: r.events });
  if (r.seconds === null) return "";
  const s = r.seconds < 10 ? r.seconds.toFixed(1) : Math.round(r.seconds);
  return t(r.thin ? "judged_over_thin" : "judged_over", { s });
}

/** Per-rule results from the engine's summary, tolerant of its exact shape. */
function ruleResults(summary) {
  if (!summary) return [];
  const src = summary.rules || summary.per_rule || summary.scores || {};
  const out = [];
  const entries = Array.isArray(src) ? src.map((r) => [r.rule_id || r.id, r]) : Object.entries(src);
  for (const [id, r] of entries) {
    if (!id || offPack(id)) continue;
    const score = typeof r === "number" ? r : (typeof r.score === "number" ? r.score : null);
    const reason = typeof r === "object" ? r.top_reason || null : null;
    // The colour is the rule's own worst status where the summary gives one (a finding that
    // failed is red at 61, not amber), else the score's band.
    let status = (typeof r === "object" && (r.status || r.worst || worstEpisode(r.episodes))) || null;
    if (!status) status = score === null ? "unknown" : score >= 0.8 || score >= 80 ? "pass" : score >= 0.5 || score >= 50 ? "warn" : "fail";
    const seconds = typeof r === "object" && typeof r.assessable_s === "number" ? r.assessable_s : null;
    // An event rule is judged once per event (a handshake's lean): it counts events, not seconds.
    const events = typeof r === "object" && typeof r.events_judged === "number" ? r.events_judged : null;
    // Too little judged time to rely on: the server's mark, and the same threshold for every
    // rule judged over time (it left one rule at 1.1 s unmarked beside another at 1.9 s).
    const thin = (typeof r === "object" && r.thin_evidence === true)
      || (events === null && seconds !== null && score !== null && seconds < THIN_EVIDENCE_S);
    out.push({ id, score, status, reason, seconds, events, thin,
               notApplied: typeof r === "object" && r.not_applied === true });
  }
  // Weakest first; rules never judged (no score) after every judged one, whatever the scale.
  return out.sort((a, b) => (a.score ?? Infinity) - (b.score ?? Infinity));
}

/** The worst status of a rule's violation episodes (warn or fail); null without any. */
function worstEpisode(episodes) {
  let worst = null;
  for (const ep of Array.isArray(episodes) ? episodes : []) {
    if (SEVERITY[ep.status] > SEVERITY[worst || "pass"]) worst = ep.status;
  }
  return worst;
}

function renderDrillResult(add, result) {
  add("h3", t("summary_drill"));
  const table = add("table", undefined, "result-table");
  for (const step of result.steps) {
    const tr = table.insertRow();
    tr.insertCell().textContent = pick(step, "title");
    const c = tr.insertCell();
    c.className = `outcome ${step.outcome}`;
    c.textContent = t(`outcome_${step.outcome}`);
    // A step passed on the checks that could be judged: say how many could not.
    const unjudged = Object.values(step.rules).filter((r) => r.outcome === "not_assessable").length;
    if (unjudged && ["pass", "warn", "fail"].includes(step.outcome)) {
      const u = document.createElement("div");
      u.className = "unjudged";
      u.textContent = t("n_unjudged", { n: unjudged });
      c.append(u);
    }
    const d = tr.insertCell();
    const notes = Object.entries(step.rules)
      .map(([id, r]) => `${ruleTitle(id)}${colon()}${t(`outcome_${r.outcome}`)}`);
    if (step.missing_events && step.missing_events.length) notes.push(t("missing_events") + step.missing_events.map((e) => t(`event_${e}`)).join(lang() === "zh" ? "、" : ", "));
    const tm = step.timing;  // "smile within 2 s, hold it 3 s": when it started, how long it held
    if (tm && tm.outcome !== "not_assessable") {
      notes.push(`${timingTitle(tm.rule)}${colon()}${tm.onset_s === null
        ? t("timing_never", { within: tm.within_s })
        : t("timing_note", { onset: tm.onset_s.toFixed(1), within: tm.within_s, held: tm.held_s.toFixed(1), hold: tm.hold_s })}`);
    }
    d.textContent = notes.join(" · ");
  }
}

/** The drill that practises a rule most: steps timing it count double, then steps judging it. */
function bestDrillFor(id) {
  let best = null;
  let bestScore = 0;
  for (const d of state.drills.values()) {
    if (d.kind !== "drill") continue;
    const score = d.steps.reduce((n, s) => n + (s.rules.includes(id) ? 1 : 0) + (s.timing && s.timing.rule === id ? 2 : 0), 0)
      / d.steps.length;
    if (score > bestScore) [best, bestScore] = [d, score];
  }
  return best;
}

/** A drill's name to quote inside Chinese brackets: "微笑练习（三米六齿）" reads
 * "微笑练习·三米六齿" (no brackets inside brackets). */
function quoteTitle(title) {
  return lang() === "zh" ? title.replace(/（([^（）]+)）$/, "·$1") : title;
}

function practiseNext(perRule) {
  const weak = perRule.filter((r) => r.status === "fail" || r.status === "warn").slice(0, 3);
  const snapRules = [...state.snapshots.keys()].filter((id) => !weak.some((w) => w.id === id));
  const out = [];
  for (const id of [...weak.map((w) => w.id), ...snapRules].slice(0, 3)) {
    const rule = state.rules.get(id);
    const explain = rule ? pick(rule, "explain") || pick(rule, "cue") : "";
    const drill = bestDrillFor(id);
    const dash = lang() === "zh" ? "——" : " — ";
    out.push(`${ruleTitle(id)}${explain ? `${dash}${explain}` : ""}${drill ? paren(`${t("practise_drill")}“${quoteTitle(pick(drill, "title"))}”`) : ""}`);
  }
  return out;
}

// ---------------------------------------------------------------- wiring
function wire() {
  el.lang.addEventListener("change", () => applyLang(el.lang.value));
  el.posture.addEventListener("change", () => {
    send({ type: "posture", posture: el.posture.value });
    renderCards();
  });
  el.start.addEventListener("click", () => {
    state.drillDef = null;
    state.drillResult = null;
    send({ type: "start" });
  });
  el.stop.addEventListener("click", stopRun);
  el.drill.addEventListener("change", renderDrillOptions);
  el.drillStart.addEventListener("click", () => send({ type: "drill_start", id: el.drill.value }));
  el.calibrate.addEventListener("click", openCalibration);
  el.calibSkip.addEventListener("click", skipFaceSteps);
  el.calibGo.addEventListener("click", startCountdown);
  $("calib-close").addEventListener("click", closeCalibration);
  el.calibDialog.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeCalibration(); });
  $("summary-close").addEventListener("click", () => el.summaryDialog.close());
  el.summaryAgain.addEventListener("click", () => {
    const id = el.summaryAgain.dataset.drill;
    if (!id) {  // free practice once more, as "Start practice" would
      el.summaryDialog.close();
      state.drillDef = null;
      state.drillResult = null;
      send({ type: "start" });
      return;
    }
    if (!state.drills.has(id)) return;
    el.summaryDialog.close();
    el.drill.value = id;
    renderDrillOptions();
    state.drillResult = null;
    send({ type: "drill_start", id });
  });
  $("first-hint-close").addEventListener("click", () => dismissHint());
  $("posture-sitting").addEventListener("click", () => choosePosture("sitting"));
  $("posture-standing").addEventListener("click", () => choosePosture("standing"));
  $("camera-retry").addEventListener("click", retryCamera);
  window.addEventListener("resize", draw);
  // Signed in or out in another tab (the review page): say so when the person comes back.
  window.addEventListener("focus", refreshWho);
}

async function main() {
  setLang(initialLang());
  el.lang.value = lang();
  wire();
  renderHint();
  updateButtons();  // nothing to start before a camera and a connection
  setInterval(captureTick, 1000 / TARGET_FPS);
  setInterval(tickTimer, 250);
  setInterval(tickDebug, 500);
  refreshWho();
  await Promise.all([loadCatalogue().catch((e) => console.error(e)), startCamera()]);
  connect();
}

main();
