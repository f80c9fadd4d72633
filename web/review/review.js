// Trainer review page: sign in, list visible sessions, agree/disagree with findings.
// Plain ES module, no build step. All state-changing requests send the CSRF token.
const T = {
  zh: { side_left: "学员在画面左侧", side_right: "学员在画面右侧", rescore_as: "重新作为两人角色扮演评分：", rescore_go: "重新评分", rescore_queued: "已排队为新的会话 #{id}（原会话保留）。",
        rescore_done: "新的会话 #{id} 已分析完毕，见上方列表。",
        title: "培训师复核", title_signin: "服务礼仪教练：登录", title_trainer: "培训师复核",
        title_hr_admin: "HR：入职自检与复核", title_trainee: "我的练习记录", doc_title: "服务礼仪教练 · 复核",
        role_trainer: "培训师", role_hr_admin: "人力资源（HR）", role_trainee: "学员", sec: "秒",
        s_id: "编号", s_person: "学员", s_source: "来源", s_date: "日期", s_actions: "",
        no_sessions: "还没有会话：上传一段录像开始评分。", no_sessions_trainee: "还没有练习记录。",
        details: "技术信息（供支持人员查看）", zoom: "点击查看原图", reviewed_by: "复核人",
        c_warn: "提醒", c_rule_note: "通过 = 每条可评估的必做规则得分都不低于 {p} 分；推荐做到的规则（如微笑、点头、鞠躬）未达到只记“提醒”，不影响通过。",
        c_sep: "；", user: "用户名", password: "密码", signin: "登录", sessions: "会话",
        report: "报告", pdf: "PDF", agree: "同意", disagree: "不同意", comment: "备注", agreement_csv: "一致性 (CSV)",
        score: "得分", status: "状态", none: "没有发现问题", open: "查看",
        cohorts_title: "培训班：入职自检结果", cohort_csv: "导出 CSV", cohort_rules: "各规则通过率",
        c_person: "学员", c_result: "结果", c_score: "得分", c_failed: "未通过的规则", c_report: "报告", c_date: "日期",
        c_passed: "通过", c_not_passed: "未通过", c_not_done: "尚未完成自检",
        c_incomplete: "未完成（中途停止，需重做）", c_recommended: "（推荐做到）", c_not_assessable: "无法评估（画面中无法判断，需重做）", c_rule: "规则",
        c_assessed: "通过 / 可评估人数", c_rate: "通过率",
        scenario: "场景", scenario_free: "练习或角色扮演", onboarding_tag: "入职自检", live_source: "实时练习", scenario_onboarding: "入职自检（计入培训班结果）",
        missed_title: "补充系统漏标的问题", missed_rule: "规则", missed_at: "时间（秒）", missed_add: "添加",
        f_warn: "提醒", f_fail: "不合格", peak: "峰值", evidence_alt: "证据截图", teeth_alt: "露齿检测截图",
        upload_title: "上传录像评分", person: "学员", video: "录像文件", people_in_view: "画面中的人",
        one_person: "一人（学员独自练习）", trainee_left: "两人角色扮演：学员在画面左侧",
        trainee_right: "两人角色扮演：学员在画面右侧", posture: "姿势", posture_auto: "自动判断",
        posture_standing: "站姿", posture_sitting: "坐姿", keep_evidence: "保留证据截图（供复核）",
        consent: "被拍摄者已同意保存此录像", upload_go: "上传并评分", uploading: "正在上传…",
        queued: "排队中…", analysing: "正在分析", done: "完成", failed: "失败",
        st_queued: "排队中", st_running: "分析中", st_done: "完成", st_failed: "失败",
        no_people: "没有可上传的学员（请HR把学员加入你的培训班）",
        upload_hint: "录像只保存在本机服务器上；两人角色扮演最好从侧面拍摄。" },
  en: { side_left: "the trainee is on the left", side_right: "the trainee is on the right",
        rescore_as: "Score again as a two-person role-play: ", rescore_go: "Score again",
        rescore_queued: "Queued as a new session #{id} (this one is kept).",
        rescore_done: "The new session #{id} is analysed: see the list above.",
        title: "Trainer review", title_signin: "Etiquette coach: sign in", title_trainer: "Trainer review",
        title_hr_admin: "HR: onboarding self-checks and review", title_trainee: "My practice record",
        doc_title: "Etiquette coach · review",
        role_trainer: "trainer", role_hr_admin: "HR", role_trainee: "trainee", sec: "s",
        s_id: "No.", s_person: "Trainee", s_source: "Source", s_date: "Date", s_actions: "",
        no_sessions: "No sessions yet: upload a recording to score it.", no_sessions_trainee: "No practice saved yet.",
        details: "Technical details (for support)", zoom: "Click for the full-size frame", reviewed_by: "reviewer",
        c_warn: "Warning", c_rule_note: "Passed = every assessable required rule scored at least {p}. A recommended behaviour (a smile, a nod, a bow) missed only warns and does not fail the check.",
        c_sep: "; ", user: "User name", password: "Password", signin: "Sign in", sessions: "Sessions",
        report: "Report", pdf: "PDF", agree: "Agree", disagree: "Disagree", comment: "Comment", agreement_csv: "Agreement (CSV)",
        score: "Score", status: "Status", none: "No findings", open: "Open",
        cohorts_title: "Cohorts: onboarding self-check", cohort_csv: "Export CSV", cohort_rules: "Pass rate per rule",
        c_person: "Trainee", c_result: "Result", c_score: "Score", c_failed: "Rules not passed", c_report: "Report", c_date: "Date",
        c_passed: "Passed", c_not_passed: "Not passed", c_not_done: "Self-check not done yet",
        c_incomplete: "Incomplete (stopped part-way: do it again)", c_recommended: "(recommended)",
        c_not_assessable: "Not assessable (nothing could be judged: do it again)", c_rule: "Rule",
        c_assessed: "Passed / assessed", c_rate: "Pass rate",
        scenario: "Scenario", scenario_free: "Practice or role-play", onboarding_tag: "onboarding self-check", live_source: "live practice",
        scenario_onboarding: "Onboarding self-check (counts in the cohort view)",
        missed_title: "Add a violation the coach missed", missed_rule: "Rule", missed_at: "At (s)", missed_add: "Add",
        f_warn: "Warning", f_fail: "Fail", peak: "peak", evidence_alt: "Evidence frame", teeth_alt: "Teeth crop",
        upload_title: "Score a recording", person: "Trainee", video: "Video file", people_in_view: "People in view",
        one_person: "One person (the trainee practising alone)", trainee_left: "Two-person role-play: the trainee is on the left",
        trainee_right: "Two-person role-play: the trainee is on the right", posture: "Posture", posture_auto: "Decide automatically",
        posture_standing: "Standing", posture_sitting: "Sitting", keep_evidence: "Keep evidence snapshots (for review)",
        consent: "The person filmed agreed to this video being stored", upload_go: "Upload and score", uploading: "Uploading…",
        queued: "Queued…", analysing: "Analysing", done: "Done", failed: "Failed",
        st_queued: "queued", st_running: "analysing", st_done: "done", st_failed: "failed",
        no_people: "No trainees to upload for (HR adds trainees to your cohort)",
        upload_hint: "Videos stay on this server. Film two-person role-plays from the side." },
};
// The language is the one chosen last on this browser (shared with the live page), else the browser's.
let lang = localStorage.getItem("pc.lang") || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en");
if (lang !== "zh" && lang !== "en") lang = "zh";
let csrf = null;
let me = null;  // the signed-in user ({username, role, ...}), null before signing in
let openSession = null;  // the session whose findings are shown (re-drawn in the other language)
let upState = null;  // the upload status line: [key, extra text], re-drawn in the other language
const $ = (id) => document.getElementById(id);
const t = (k, vars = {}) => (T[lang][k] ?? k).replace(/\{(\w+)\}/g, (_, v) => vars[v] ?? "");
const canReview = () => me !== null && (me.role === "trainer" || me.role === "hr_admin");

function paint() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("doc_title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  // The heading says what this page is for whoever signed in.
  $("page-title").textContent = t(me ? `title_${me.role}` : "title_signin");
  if (me) $("who").textContent = `${me.username}${lang === "zh" ? "（" : " ("}${t(`role_${me.role}`)}${lang === "zh" ? "）" : ")"}`;
  $("lang").textContent = lang === "zh" ? "EN" : "中文";
  if (upState) drawStatus();
}

// The upload status line. A failure with a reason code shows the server's text in the
// page's language (reasonText: {zh, en}); the technical message stays below, for support.
function setStatus(key, extra = "", reasonText = null, detail = "") {
  upState = [key, extra, reasonText, detail];
  drawStatus();
}

// ": <why>" in the page's language, from a server reason text ({zh, en}); "" without one.
function because(reasonText) {
  return reasonText ? (lang === "zh" ? "：" : ": ") + reasonText[lang] : "";
}

function drawStatus() {
  const [key, extra, reasonText, detail] = upState;
  $("up-status").textContent = t(key) + extra + because(reasonText);
  // The server's technical message (English) stays out of the way, folded, for support.
  $("up-detail-text").textContent = reasonText && detail ? detail : "";
  $("up-detail").classList.toggle("hidden", !(reasonText && detail));
}

// An error of a button's action, shown next to it in the page's language.
function showError(el, e) {
  el.textContent = e.reasonText ? e.reasonText[lang] : e.message;
}

// A click handler whose failure (signed out, no right, server gone) is said at the top.
const guarded = (fn) => async () => {
  $("error").textContent = "";
  try { await fn(); } catch (e) { showError($("error"), e); }
};

// An error from the server: its reason code's text in both languages when it has one.
class ApiError extends Error {
  constructor(body, fallback) {
    super(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || fallback));
    this.reasonText = body.reason_text || null;
  }
}

function failed(e) {
  // No reason code (a network error, an older server): the message is all there is.
  if (e.reasonText) setStatus("failed", "", e.reasonText, e.message);
  else setStatus("failed", `: ${e.message}`);
}

async function api(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.method && opts.method !== "GET") headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, { credentials: "same-origin", ...opts, headers });
  if (!r.ok) throw new ApiError(await r.json().catch(() => ({})), r.statusText);
  return r.json();
}

function text(tag, s) { const el = document.createElement(tag); el.textContent = s ?? ""; return el; }

// A rule's title in the page's language, from a session's rules (the id when it is not there).
function ruleTitle(rules, rid) {
  const r = rules.find((x) => x.rule_id === rid);
  return r ? (lang === "zh" ? r.title_zh : r.title_en) : rid;
}

let failures = {};  // session id -> why its analysis failed ({zh, en}), from the sessions list

/** What a session was made from: the uploaded file's name, or "live practice" for one saved from the live page. */
function sourceName(session) {
  return session.kind === "live" ? t("live_source") : session.source;
}

// "2026-11-24 19:41" in the browser's time zone, from an ISO time.
function when(iso) {
  if (!iso) return "—";
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function showSessions() {
  const { sessions } = await api("/api/sessions");
  const table = $("sessions");
  table.replaceChildren();
  failures = {};
  if (!sessions.length) {
    table.append(row([t(me && me.role === "trainee" ? "no_sessions_trainee" : "no_sessions")]));
    return;
  }
  table.append(row(["s_id", "s_person", "s_source", "status", "score", "s_date", "s_actions"].map((k) => t(k)), "th"));
  for (const s of sessions) {
    if (s.failure_text) failures[s.id] = s.failure_text;
    const tr = document.createElement("tr");
    // A failed analysis says why, in the page's language.
    const from = sourceName(s);
    const source = s.scenario === "onboarding" ? `${from} · ${t("onboarding_tag")}` : from;
    tr.append(text("td", `#${s.id}`), text("td", s.person_name || "—"), text("td", source),
              text("td", (t(`st_${s.status}`) || s.status) + because(s.failure_text)),
              text("td", s.overall_score == null ? "—" : Math.round(100 * s.overall_score)),
              text("td", when(s.created_at)));
    const td = document.createElement("td");
    const open = text("button", t("open") + " ›");
    open.onclick = guarded(() => showSession(s.id));
    td.append(open);
    if (s.status === "done") {  // a queued, running or failed analysis has no report yet
      const link = document.createElement("a");
      link.href = `/api/sessions/${s.id}/report?lang=${lang}`;
      link.textContent = t("report");
      const pdf = document.createElement("a");
      pdf.href = `/api/sessions/${s.id}/report.pdf?lang=${lang}`;
      pdf.textContent = t("pdf");
      td.append(" ", link, " · ", pdf);
    }
    tr.append(td);
    table.append(tr);
  }
}

function rescoreForm(id) {
  const form = document.createElement("div");
  form.className = "rescore";
  const pick = document.createElement("select");
  pick.id = `rescore-side-${id}`;
  for (const side of ["left", "right"]) {
    const o = text("option", t(`side_${side}`));
    o.value = side;
    pick.append(o);
  }
  const go = text("button", t("rescore_go"));
  go.id = `rescore-${id}`;
  const said = text("span", "");
  said.className = "rescore-said";
  go.onclick = guarded(async () => {
    const r = await api(`/api/sessions/${id}/reanalyse`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ role_play: pick.value }),
    });
    go.disabled = true;
    said.textContent = " " + t("rescore_queued", { id: r.session_id });
    await showSessions();
    await finishedJob(r.job_id);  // the table shows the new session's result when it ends
    if (said.isConnected) said.textContent = " " + t("rescore_done", { id: r.session_id });
    await showSessions();
  });
  form.append(text("span", t("rescore_as")), pick, " ", go, said);
  return form;
}

async function showSession(id) {
  openSession = id;
  const rep = await api(`/api/sessions/${id}`);
  const box = $("detail");
  box.replaceChildren(text("h3", `#${id} ${sourceName(rep.session)}`));
  const status = rep.session.status;
  // What the analysis noticed about the video (two people in a clip scored as practice
  // alone), and the way out: the same video scored again as a role-play, a new session.
  for (const n of rep.notices || []) {
    const p = text("p", n.text ? n.text[lang] : n.code);
    p.className = "notice";
    box.append(p);
    if (n.code === "two_people_in_view" && !rep.session.role_play) box.append(rescoreForm(id));
  }
  if (status !== "done") {
    // Not analysed (yet, or it failed): no findings is not "no problems found".
    box.append(text("p", (t(`st_${status}`) || status) + because(failures[id])));
    return;
  }
  if (!rep.findings.length) box.append(text("p", t("none")));
  for (const f of rep.findings) {
    const div = document.createElement("div");
    div.className = "finding";
    const badge = text("span", t(`f_${f.status}`) || f.status);
    badge.className = `badge ${f.status}`;
    const peak = f.peak_text && f.peak_text[lang] ? ` · ${t("peak")} ${f.peak_text[lang]}` : "";
    const secs = `${(f.start_ms / 1000).toFixed(1)}–${((f.end_ms ?? f.start_ms) / 1000).toFixed(1)} ${t("sec")}`;
    div.append(text("b", ruleTitle(rep.rules, f.rule_id)), " ", badge, text("span", ` ${secs}${peak} `));
    if (f.review) {  // the decision, with the reviewer's comment and name
      const colon = lang === "zh" ? "：" : ": ";
      const said = f.review.comment ? `${colon}${f.review.comment}` : "";
      const by = f.review.trainer ? ` — ${t("reviewed_by")} ${f.review.trainer}` : "";
      const rv = text("span", `(${t(f.review.decision)}${said}${by})`);
      rv.className = "review";
      div.append(rv);
    }
    // The frames kept as evidence (only when the upload asked for them), served by the API.
    const shots = document.createElement("div");
    shots.className = "shots";
    for (const [kind, url] of Object.entries(f.evidence || {})) {
      const img = document.createElement("img");
      img.src = url;
      img.alt = t(kind === "teeth" ? "teeth_alt" : "evidence_alt");
      img.title = t("zoom");
      img.loading = "lazy";
      const a = document.createElement("a");  // the full-size frame, in a new tab
      Object.assign(a, { href: url, target: "_blank", rel: "noopener" });
      a.append(img);
      shots.append(a);
    }
    if (shots.childElementCount) div.append(shots);
    if (canReview()) {
      const comment = document.createElement("input");
      comment.placeholder = t("comment");
      comment.className = "comment";
      comment.value = f.review && f.review.comment ? f.review.comment : "";  // edit, not retype, a comment
      const err = text("span", "");
      err.className = "err";
      for (const decision of ["agree", "disagree"]) {
        const b = text("button", t(decision));
        b.onclick = async () => {
          err.textContent = "";
          try {
            await api(`/api/findings/${f.id}/review`, { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify({ decision, comment: comment.value }) });
            await showSession(id);
          } catch (e) { showError(err, e); }
        };
        div.append(b);
      }
      div.append(comment, " ", err);
    }
    box.append(div);
  }
  box.append(missedForm(id, rep));
}

// A violation the trainer saw and the coach did not flag: listed, and a form to add one.
function missedForm(id, rep) {
  const wrap = document.createElement("div");
  wrap.className = "missed";
  wrap.append(text("h4", t("missed_title")));
  const title = (rid) => ruleTitle(rep.rules, rid);
  for (const m of rep.missed || []) {
    const at = m.at_ms == null ? "" : ` · ${(m.at_ms / 1000).toFixed(1)} ${t("sec")}`;
    wrap.append(text("p", `${title(m.rule_id)}${at}${m.comment ? " — " + m.comment : ""} (${m.trainer})`));
  }
  if (!canReview()) {  // trainees read what was added; trainers and HR add
    if (!(rep.missed || []).length) wrap.replaceChildren();
    return wrap;
  }
  const rule = document.createElement("select");
  rule.id = "missed-rule";
  rule.setAttribute("aria-label", t("missed_rule"));
  const rules = [...rep.rules].sort((a, b) => title(a.rule_id).localeCompare(title(b.rule_id), lang));
  rule.replaceChildren(...rules.map((r) => { const o = text("option", title(r.rule_id)); o.value = r.rule_id; return o; }));
  const at = document.createElement("input");
  Object.assign(at, { id: "missed-at", type: "number", min: "0", step: "0.1", placeholder: t("missed_at") });
  at.style.width = "8em";
  if (rep.session.duration_s != null) at.max = String(rep.session.duration_s);
  const note = document.createElement("input");
  Object.assign(note, { id: "missed-comment", placeholder: t("comment") });
  const add = text("button", t("missed_add"));
  add.id = "missed-add";
  const err = text("span", "");
  err.className = "err";
  add.onclick = async () => {
    const secs = parseFloat(at.value);
    err.textContent = "";
    try {
      await api(`/api/sessions/${id}/missed`, { method: "POST", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ rule_id: rule.value, at_ms: Number.isFinite(secs) ? Math.round(secs * 1000) : null,
                                       comment: note.value }) });
      await showSession(id);
    } catch (e) { showError(err, e); }
  };
  const row = document.createElement("p");
  row.append(rule, " ", at, " ", note, " ", add, " ", err);
  wrap.append(row);
  return wrap;
}

let openCohort = null;  // the cohort whose table is shown

// Trainers (their cohorts) and HR (all): each member's latest onboarding self-check.
async function showCohorts(role) {
  const box = $("cohorts-box");
  const { cohorts } = role === "trainer" || role === "hr_admin" ? await api("/api/cohorts") : { cohorts: [] };
  box.classList.toggle("hidden", !cohorts.length);
  if (!cohorts.length) return;
  const sel = $("cohort-sel");
  sel.replaceChildren(...cohorts.map((c) => { const o = text("option", `${c.name} (${c.members})`); o.value = c.id; return o; }));
  if (openCohort !== null && cohorts.some((c) => c.id === openCohort)) sel.value = openCohort;
  sel.onchange = guarded(() => showCohort(Number(sel.value)));
  await showCohort(Number(sel.value));
}

function row(cells, tag = "td") {
  const tr = document.createElement("tr");
  for (const c of cells) tr.append(c instanceof Node ? c : text(tag, c));
  return tr;
}

async function showCohort(id) {
  openCohort = id;
  const tb = await api(`/api/cohorts/${id}/table`);
  $("cohort-csv").href = `/api/cohorts/${id}/table?format=csv&lang=${lang}`;
  const title = (rid) => (tb.rule_titles && tb.rule_titles[rid] ? tb.rule_titles[rid][lang] : rid);
  const pct = (x) => (x == null ? "—" : `${Math.round(100 * x)}`);
  const people = $("cohort-people");
  people.replaceChildren(row(["c_person", "c_result", "c_score", "c_failed", "c_date", "c_report"].map(t), "th"));
  for (const p of tb.people) {
    // passed | failed | incomplete (stopped part-way) | not_assessable (nobody judged) | not done
    const res = p.result || (p.session_id == null ? null : (p.passed ? "passed" : "failed"));
    const key = { passed: "c_passed", failed: "c_not_passed", incomplete: "c_incomplete",
                  not_assessable: "c_not_assessable" }[res] || "c_not_done";
    const result = text("td", t(key));
    if (res) result.className = res === "passed" ? "pass" : "fail-t";
    const failedRules = Object.entries(p.rules).filter(([, v]) => v === "fail").map(([rid]) => title(rid));
    const warned = Object.entries(p.rules).filter(([, v]) => v === "warn").map(([rid]) => `${title(rid)} (${t("c_warn")})`);
    const link = document.createElement("td");
    if (p.session_id != null) {
      const a = document.createElement("a");
      a.href = `/api/sessions/${p.session_id}/report?lang=${lang}`;
      a.textContent = t("c_report");
      link.append(a);
      if (p.kind === "live") link.append(` · ${t("live_source")}`);  // saved from the live page
    }
    people.append(row([text("td", p.name), result, text("td", pct(p.overall)),
                       text("td", [...failedRules, ...warned].join(t("c_sep")) || "—"), text("td", p.date || "—"), link]));
  }
  $("cohort-note").textContent = t("c_rule_note", { p: pct(tb.cohort.pass_score) });
  const rules = $("cohort-rules");
  if (!Object.keys(tb.rules).length) {  // nobody's self-check is in yet
    rules.replaceChildren(row(["—"]));
    return;
  }
  rules.replaceChildren(row(["c_rule", "c_assessed", "c_rate"].map(t), "th"));
  // The rules most people miss first.
  // Required rules first (they decide the result), worst pass rate first; then the
  // recommended ones, marked: missed, they only warn.
  const rec = (rid) => Boolean(tb.rule_titles && tb.rule_titles[rid] && tb.rule_titles[rid].recommended);
  const byRate = Object.entries(tb.rules).sort(([a, x], [b, y]) => rec(a) - rec(b) || x.pass_rate - y.pass_rate
                                                 || title(a).localeCompare(title(b), lang));
  for (const [rid, r] of byRate) {
    const name = rec(rid) && !/recommended/i.test(title(rid)) ? `${title(rid)} ${t("c_recommended")}` : title(rid);
    rules.append(row([name, `${r.passed} / ${r.assessed}`, `${pct(r.pass_rate)} %`]));
  }
}

async function showPeople() {
  const { people } = await api("/api/people");
  const sel = $("up-person");
  const keep = sel.value;
  sel.replaceChildren(...people.map((p) => { const o = text("option", p.name); o.value = p.id; return o; }));
  if (keep) sel.value = keep;
  $("up-go").disabled = !people.length;
  if (!people.length) setStatus("no_people");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll an analysis job once a second until it is done or failed; ``seen`` gets every state. */
async function finishedJob(jobId, seen = () => {}) {
  for (;;) {
    const job = await api(`/api/jobs/${jobId}`);
    seen(job);
    if (job.status === "done" || job.status === "failed") return job;
    await sleep(1000);
  }
}

async function upload(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const status = $("up-status"), bar = $("up-progress"), go = $("up-go");
  go.disabled = true;
  status.className = "";
  setStatus("uploading");
  try {
    const r = await fetch("/api/uploads", { method: "POST", credentials: "same-origin",
                                            headers: { "X-CSRF-Token": csrf }, body: form });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(body, r.statusText);
    bar.classList.remove("hidden");
    const job = await finishedJob(body.job_id, (j) => {
      bar.value = j.progress || 0;
      if (j.status === "queued") setStatus("queued");
      else if (j.status === "running") setStatus("analysing", ` ${Math.round(100 * (j.progress || 0))}%`);
      else if (j.status === "done") setStatus("done");
      else if (j.error_text) setStatus("failed", "", j.error_text, j.error || "");
      else setStatus("failed", `: ${j.error || ""}`);
    });
    if (job.status === "failed") status.className = "err";
    bar.classList.add("hidden");
    await showSessions();
    await showSession(body.session_id);
    if (openCohort !== null) await showCohort(openCohort);  // an onboarding result changes it
    ev.target.reset();
  } catch (e) {
    status.className = "err";
    failed(e);
  } finally {
    go.disabled = false;
  }
}

async function start() {
  let who;
  try {
    who = await api("/api/auth/me");
  } catch { return; /* not signed in yet */ }
  csrf = who.csrf_token;
  me = who.user;
  paint();
  $("login").classList.add("hidden");
  $("main").classList.remove("hidden");
  // Trainees see their own sessions; uploading for others, agreement and cohorts are for trainers and HR.
  $("agreement-link").classList.toggle("hidden", !canReview());
  // The onboarding self-check is the fixed live scenario: a trainee cannot upload a clip as it.
  const onboarding = document.querySelector('#up-scenario option[value="onboarding"]');
  onboarding.hidden = onboarding.disabled = !canReview();
  await showPeople();
  await showSessions();
  await showCohorts(me.role);
}

$("upload").addEventListener("submit", upload);

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(ev.target));
  try {
    const r = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    if (!r.ok) throw new ApiError(await r.json().catch(() => ({})), r.statusText);
    $("error").textContent = "";
    await start();
  } catch (e) { showError($("error"), e); }
});
$("lang").onclick = async () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("pc.lang", lang);
  $("error").textContent = "";
  paint();
  await start();
  if (openSession !== null) await showSession(openSession);
};
paint();
start();
