// Trainer review page: sign in, list visible sessions, agree/disagree with findings.
// Plain ES module, no build step. All state-changing requests send the CSRF token.
const T = {
  zh: { title: "培训师复核", user: "用户名", password: "密码", signin: "登录", sessions: "会话",
        report: "报告", pdf: "PDF", agree: "同意", disagree: "不同意", comment: "备注", agreement_csv: "一致性 (CSV)",
        score: "得分", status: "状态", none: "没有发现问题" },
  en: { title: "Trainer review", user: "User name", password: "Password", signin: "Sign in", sessions: "Sessions",
        report: "Report", pdf: "PDF", agree: "Agree", disagree: "Disagree", comment: "Comment", agreement_csv: "Agreement (CSV)",
        score: "Score", status: "Status", none: "No findings" },
};
let lang = navigator.language.startsWith("zh") ? "zh" : "en";
let csrf = null;
const $ = (id) => document.getElementById(id);
const t = (k) => T[lang][k];

function paint() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("lang").textContent = lang === "zh" ? "EN" : "中文";
}

async function api(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.method && opts.method !== "GET") headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, { credentials: "same-origin", ...opts, headers });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return r.json();
}

function text(tag, s) { const el = document.createElement(tag); el.textContent = s ?? ""; return el; }

async function showSessions() {
  const { sessions } = await api("/api/sessions");
  const table = $("sessions");
  table.replaceChildren();
  for (const s of sessions) {
    const tr = document.createElement("tr");
    tr.append(text("td", `#${s.id}`), text("td", s.source), text("td", s.status),
              text("td", s.overall_score == null ? "—" : Math.round(100 * s.overall_score)));
    const td = document.createElement("td");
    const open = text("button", t("sessions") + " ›");
    open.onclick = () => showSession(s.id);
    const link = document.createElement("a");
    link.href = `/api/sessions/${s.id}/report?lang=${lang}`;
    link.textContent = t("report");
    const pdf = document.createElement("a");
    pdf.href = `/api/sessions/${s.id}/report.pdf?lang=${lang}`;
    pdf.textContent = t("pdf");
    td.append(open, " ", link, " · ", pdf);
    tr.append(td);
    table.append(tr);
  }
}

async function showSession(id) {
  const rep = await api(`/api/sessions/${id}`);
  const box = $("detail");
  box.replaceChildren(text("h3", `#${id} ${rep.session.source}`));
  if (!rep.findings.length) box.append(text("p", t("none")));
  for (const f of rep.findings) {
    const div = document.createElement("div");
    div.className = "finding";
    const rule = rep.rules.find((r) => r.rule_id === f.rule_id) || {};
    div.append(text("b", lang === "zh" ? rule.title_zh : rule.title_en),
               text("span", ` ${(f.start_ms / 1000).toFixed(1)}–${((f.end_ms ?? f.start_ms) / 1000).toFixed(1)} s `),
               text("span", f.review ? `(${f.review.decision})` : ""));
    const comment = document.createElement("input");
    comment.placeholder = t("comment");
    for (const decision of ["agree", "disagree"]) {
      const b = text("button", t(decision));
      b.onclick = async () => {
        await api(`/api/findings/${f.id}/review`, { method: "POST", headers: { "Content-Type": "application/json" },
                  body: JSON.stringify({ decision, comment: comment.value }) });
        showSession(id);
      };
      div.append(b);
    }
    div.append(comment);
    box.append(div);
  }
}

async function start() {
  try {
    const me = await api("/api/auth/me");
    csrf = me.csrf_token;
    $("who").textContent = `${me.user.username} (${me.user.role})`;
    $("login").classList.add("hidden");
    $("main").classList.remove("hidden");
    await showSessions();
  } catch { /* not signed in yet */ }
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(ev.target));
  try {
    const r = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    if (!r.ok) throw new Error((await r.json()).detail);
    $("error").textContent = "";
    await start();
  } catch (e) { $("error").textContent = e.message; }
});
$("lang").onclick = () => { lang = lang === "zh" ? "en" : "zh"; paint(); start(); };
paint();
start();
