// Trainer review page: sign in, list visible sessions, agree/disagree with findings.
// Plain ES module, no build step. All state-changing requests send the CSRF token.
const T = {
  zh: { side_left: "学员在画面左侧", side_right: "学员在画面右侧", rescore_as: "重新作为两人角色扮演评分：", rescore_go: "重新评分", rescore_sending: "正在提交…",
        rescore_queued: "已排队为新的评分记录 #{id}，正在分析（原记录保留），完成后自动打开。",
        superseded: "这段录像已重新评分为评分记录 #{id}，请以新记录为准：", superseded_pending: "这段录像正在重新评分为评分记录 #{id}：",
        superseded_open: "查看 #{id}", superseded_short: "已由 #{id} 取代", rescored_from: "由评分记录 #{id} 的同一段录像重新评分而来。",
        rescored_from_short: "由 #{id} 重新评分",
        rescore_alone: "作为个人练习重新评分", role_play_line: "两人角色扮演：{side}。", other_side_left: "学员其实在左侧？", other_side_right: "学员其实在右侧？",
        other_side_go_left: "重新评分", other_side_go_right: "重新评分",
        r_added: "{s}（培训师补充）", not_counted: "不计分（培训师不同意）",
        nobody_judged: "无法评估：画面中没有可判断的人（需重做）", unassessable_all: "{p}% 的时间无法评估：{why}。",
        missed_pick: "请选择规则…", g_standing: "站姿", g_sitting: "坐姿", g_face: "面部与表情",
        g_interaction: "握手、递物、问候与手势", g_distance: "与客户的距离", g_grooming: "仪容仪表", g_other: "其他",
        s_unknown: "无法评估", score_before: "复核前 {a} 分，培训师复核后 {b} 分",
        unknown_high_title: "超过一半的时间无法评估：得分只反映能看清的部分",
        score_line: "得分 {s}", score_line_reviewed: "得分 {a} → 复核后 {b}", unknown_line: "无法评估的时间 {p}%",
        unassessable_high: "{p}% 的时间无法评估：{why}。得分只反映能看清的部分，仅供参考。",
        unassessable_some: "{p}% 的时间无法评估：{why}。得分只反映能看清的部分。",
        none_with_gap: "在可评估的时间里没有发现问题（{p}% 的时间无法评估）。",
        findings_title: "发现的问题", rules_title: "各项规则", r_rule: "规则", r_score: "得分（系统 → 复核后）",
        r_judged: "可评估时长 / 事件数", r_note: "说明", r_event_one: "{n} 次", r_event_many: "{n} 次",
        r_thin: "时间太短，仅供参考", r_not_assessable: "无法评估：{why}", r_trainer_judged: "由培训师判定（系统无法评估）", r_partly: "{p}% 的时间无法评估：{why}",
        r_not_applied: "未涉及的规则（{n} 条，展开查看原因）", r_sep: "；",
        load_failed: "无法加载评分记录 #{id}", server_error: "服务器出错，页面无法加载这些内容。请刷新页面重试；如仍出错，请联系管理员。",
        network_error: "无法连接服务器，请检查网络后刷新页面。",
        poll_failed: "已上传，但无法获取分析进度", missed_at_ph: "时间（秒，0–{d}）", missed_at_range: "请填写 0 到 {d} 秒之间的时间（留空表示整段录像）。", missed_whole: "整段录像", missed_delete: "删除",
        missed_at_hint: "时间留空表示问题不在某一时刻（例如全程没有微笑），记为整段录像。",
        upload_title_trainee: "上传我的练习录像评分",
        title: "培训师复核", title_signin: "服务礼仪教练：登录", title_trainer: "培训师复核",
        title_hr_admin: "人力资源：入职自检与复核", title_trainee: "我的练习记录", doc_title: "服务礼仪教练 · 复核",
        role_trainer: "培训师", role_hr_admin: "人力资源", role_trainee: "学员", sec: "秒",
        s_id: "编号", s_person: "学员", s_source: "来源", s_date: "日期", s_actions: "",
        no_sessions: "还没有评分记录：请上传一段录像开始评分。", no_sessions_trainee: "还没有练习记录。",
        details: "技术信息（供支持人员查看）", zoom: "点击查看原图", reviewed_by: "复核人",
        c_warn: "需注意", c_rule_note: "通过 = 每条可评估的必做规则得分都不低于 {p} 分；推荐做到的规则（如微笑、点头、鞠躬）未达到只记“需注意”，不影响通过。",
        c_sep: "；", user: "用户名", password: "密码", signin: "登录", sessions: "评分记录",
        report: "报告", pdf: "PDF", agree: "同意", disagree: "不同意", comment: "备注", agreement_csv: "导出培训师与系统判定一致性（CSV）",
        score: "得分", status: "分析状态", none: "没有发现问题", open: "查看",
        cohorts_title: "培训班：入职自检结果", cohort_csv: "导出 CSV", cohort_rules: "各规则通过率",
        c_person: "学员", c_result: "结果", c_score: "得分", c_failed: "未通过 / 需注意的规则", c_report: "报告", c_date: "日期",
        c_passed: "通过", c_not_passed: "未通过", c_not_done: "尚未完成自检",
        c_mostly_unassessable: "（{n}% 的时间无法评估）",
        sc_passed: "入职自检（{cohort}）：通过", sc_failed: "入职自检（{cohort}）：未通过——{detail}",
        sc_incomplete: "入职自检（{cohort}）：未完成（中途停止，需重做）",
        sc_not_shown: "入职自检（{cohort}）：未完成——缺少以下步骤：{detail}",
        sc_not_assessable: "入职自检（{cohort}）：无法评估（画面中无法判断，需重做）",
        sc_not_counted: "（培训班结果以之前完整完成的一次为准）",
        c_incomplete: "未完成（中途停止，需重做）", c_not_shown: "未完成（缺少以下步骤：{steps}）", c_recommended: "（推荐做到）", c_not_assessable: "无法评估（画面中无法判断，需重做）", c_rule: "规则",
        c_assessed: "通过 / 可评估人数", c_rate: "通过率",
        scenario: "场景", scenario_free: "练习或角色扮演", onboarding_tag: "入职自检", live_source: "实时练习", scenario_onboarding: "入职自检（计入培训班结果）",
        missed_title: "培训师补充的问题（系统未检出）", missed_rule: "规则", missed_at: "时间（秒）", missed_add: "添加",
        f_warn: "注意", f_fail: "未通过", peak: "最明显时 {v}", for_reference: "⚠ 仅供参考", cohort_option: "{name}（{n} 人）", cohort_option_one: "{name}（{n} 人）", l_person: "对应学员", evidence_alt: "证据截图", teeth_alt: "露齿检测截图",
        upload_title: "上传录像评分", person: "学员", video: "录像文件", people_in_view: "画面中的人",
        one_person: "一人（学员独自练习）", trainee_left: "两人角色扮演：学员在画面左侧",
        trainee_right: "两人角色扮演：学员在画面右侧", posture: "姿势", posture_auto: "自动判断",
        posture_standing: "站姿", posture_sitting: "坐姿", keep_evidence: "保留证据截图（供复核）",
        consent: "被拍摄者已同意保存此录像", consent_self: "我同意保存此录像", upload_go: "上传并评分", uploading: "正在上传…",
        queued: "排队中…", analysing: "正在分析", done: "完成", failed: "失败",
        st_queued: "排队中", st_running: "分析中", st_done: "已分析", st_failed: "分析失败",
        no_people: "没有可上传的学员（请人力资源部把学员加入您的培训班）",
        no_consent_person: "（未同意保存录像）",
        no_consented_people: "没有同意保存录像的学员：请由本人或人力资源部先登记同意",
        no_consent_self: "要上传录像，请先在上方勾选“我同意保存我的练习录像”。",
        upload_hint: "录像只保存在本机服务器上。两人角色扮演请从与两人约成 45° 的斜角拍摄：从正侧面拍摄时，大多数站姿规则（手臂、双手、脚位、肩部）无法评估；斜 45° 拍摄时这些规则和握手前倾都能评估。只有与客户的距离需要从正侧面拍摄才能测量。",
        sign_out: "退出", signed_out_under_page: "您已退出登录（登录已过期，或账号已被人力资源部停用），请重新登录。",
        consent_title: "学员录像授权（知情同意）", consent_hint: "上传录像前，须登记本人同意保存录像。撤回同意会删除此人已保存的录像和证据截图（得分和复核保留）。",
        consent_state: "是否同意保存录像", consent_yes: "已同意", consent_no: "未同意",
        consent_record: "登记同意", consent_withdraw: "撤回同意", consent_nobody: "还没有学员。",
        consent_confirm: "撤回{name}的同意后，其已保存的录像和证据截图将被删除，无法恢复（得分和复核保留）。确定撤回吗？",
        my_consent: "我同意保存我的练习录像",
        my_consent_confirm: "撤回同意后，您已保存的练习录像和证据截图将被删除，无法恢复（得分保留）。确定撤回吗？",
        consent_confirm_yes: "撤回并删除", consent_confirm_no: "取消",
        consent_recorded: "已登记：{name}同意保存录像。", my_consent_recorded: "已登记：您同意保存练习录像。",
        consent_withdrawn: "已撤回{name}的同意：{files}；得分保留。", my_consent_withdrawn: "已撤回您的同意：{files}；得分保留。",
        files_none: "没有已保存的录像或截图需要删除", files_one: "删除了 1 个文件（录像或证据截图）",
        files_many: "删除了 {n} 个文件（录像和证据截图）",
        rename: "重命名", rename_save: "保存", rename_cancel: "取消", rename_label: "培训班的新名称",
        logins_title: "登录账号",
        logins_hint: "学员或培训师离职时，请停用其账号：该账号会立即在所有设备上退出，不能再登录；其记录、得分和复核都会保留。",
        l_login: "登录名", l_role: "角色", l_state: "状态", l_active: "正常", l_disabled: "已停用",
        l_disable: "停用", l_enable: "启用", l_you: "（您）", l_own: "不能停用您自己的账号",
        l_disabled_said: "已停用 {name} 的账号：已在所有设备上退出登录，其记录保留。",
        l_enabled_said: "已启用 {name} 的账号：可以重新登录。" },
  en: { side_left: "the trainee is on the left", side_right: "the trainee is on the right",
        rescore_as: "Score again as a two-person role-play: ", rescore_go: "Score again", rescore_sending: "Sending…",
        rescore_queued: "Queued as a new session #{id}, being analysed (this one is kept); it opens when done.",
        superseded: "This video was scored again as session #{id}; go by the new session: ",
        superseded_pending: "This video is being scored again as session #{id}: ",
        superseded_open: "open #{id}", superseded_short: "superseded by #{id}",
        rescored_from: "Scored again from the same video as session #{id}.", rescored_from_short: "scored again from #{id}",
        rescore_alone: "Score again as practice alone", role_play_line: "Two-person role-play: {side}.", other_side_left: "Trainee on the other side?",
        other_side_right: "Trainee on the other side?", other_side_go_left: "Score again with the trainee on the left",
        other_side_go_right: "Score again with the trainee on the right",
        r_added: "{s} (added by trainer)", not_counted: "Not counted (trainer disagrees)",
        nobody_judged: "Not assessable: nobody could be judged (do it again)",
        unassessable_all: "{p}% of the time could not be assessed: {why}.",
        missed_pick: "Choose a rule…", g_standing: "Standing", g_sitting: "Sitting", g_face: "Face and expression",
        g_interaction: "Handshake, handover, greeting and gestures", g_distance: "Distance to the customer",
        g_grooming: "Grooming", g_other: "Other",
        s_unknown: "Not assessable", score_before: "{a} before the trainer's review, {b} after it",
        unknown_high_title: "More than half of the time could not be assessed: the score covers only what could be seen",
        score_line: "Score {s}", score_line_reviewed: "Score {a} → {b} after review", unknown_line: "time not assessable {p}%",
        unassessable_high: "{p}% of the time could not be assessed: {why}. The score covers only what could be seen; do not rely on it alone.",
        unassessable_some: "{p}% of the time could not be assessed: {why}. The score covers only what could be seen.",
        none_with_gap: "No findings in the time that could be assessed ({p}% of the time could not be).",
        findings_title: "Findings", rules_title: "Rules", r_rule: "Rule", r_score: "Score (coach → after review)",
        r_judged: "Assessable time / events", r_note: "Note", r_event_one: "{n} event", r_event_many: "{n} events",
        r_thin: "too short to rely on", r_not_assessable: "Not assessable: {why}", r_trainer_judged: "Judged by a trainer (the coach could not assess it)", r_partly: "{p}% of its time not assessable: {why}",
        r_not_applied: "Rules that did not apply ({n}; open to see why)", r_sep: "; ",
        load_failed: "Session #{id} could not be loaded",
        server_error: "The server had an error and the page could not load this. Reload the page; if it keeps happening, tell your administrator.",
        network_error: "The server could not be reached; check the connection and reload the page.",
        poll_failed: "Uploaded, but the analysis progress could not be read", missed_at_ph: "At (s, 0–{d})", missed_at_range: "Enter a time from 0 to {d} s (leave it empty for the whole recording).", missed_whole: "whole recording", missed_delete: "Delete",
        missed_at_hint: "Leave the time empty for a violation that is not at one moment (e.g. never smiled): it counts for the whole recording.",
        upload_title_trainee: "Score a recording of my practice",
        title: "Trainer review", title_signin: "Etiquette coach: sign in", title_trainer: "Trainer review",
        title_hr_admin: "HR: onboarding self-checks and review", title_trainee: "My practice record",
        doc_title: "Etiquette coach · review",
        role_trainer: "trainer", role_hr_admin: "HR", role_trainee: "trainee", sec: "s",
        s_id: "No.", s_person: "Trainee", s_source: "Source", s_date: "Date", s_actions: "",
        no_sessions: "No sessions yet: please upload a recording to score it.", no_sessions_trainee: "No practice saved yet.",
        details: "Technical details (for support)", zoom: "Click for the full-size frame", reviewed_by: "reviewer",
        c_warn: "to watch", c_rule_note: "Passed = every assessable required rule scored at least {p}. A recommended behaviour (a smile, a nod, a bow) missed is only marked “to watch” and does not fail the check.",
        c_sep: "; ", user: "User name", password: "Password", signin: "Sign in", sessions: "Sessions",
        report: "Report", pdf: "PDF", agree: "Agree", disagree: "Disagree", comment: "Comment", agreement_csv: "Export trainer–coach agreement (CSV)",
        score: "Score", status: "Analysis", none: "No findings", open: "Open",
        cohorts_title: "Cohorts: onboarding self-check", cohort_csv: "Export CSV", cohort_rules: "Pass rate per rule",
        c_person: "Trainee", c_result: "Result", c_score: "Score", c_failed: "Rules failed or to watch", c_report: "Report", c_date: "Date",
        c_passed: "Passed", c_not_passed: "Not passed", c_not_done: "Self-check not done yet",
        c_mostly_unassessable: "({n}% of the time not assessable)",
        sc_passed: "Onboarding self-check ({cohort}): passed", sc_failed: "Onboarding self-check ({cohort}): not passed — {detail}",
        sc_incomplete: "Onboarding self-check ({cohort}): incomplete (stopped part-way: do it again)",
        sc_not_shown: "Onboarding self-check ({cohort}): incomplete — steps missing: {detail}",
        sc_not_assessable: "Onboarding self-check ({cohort}): not assessable (do it again)",
        sc_not_counted: " (the cohort counts an earlier finished attempt)",
        c_incomplete: "Incomplete (stopped part-way: do it again)", c_not_shown: "Incomplete (steps missing: {steps})", c_recommended: "(recommended)",
        c_not_assessable: "Not assessable (nothing could be judged: do it again)", c_rule: "Rule",
        c_assessed: "Passed / assessed", c_rate: "Pass rate",
        scenario: "Scenario", scenario_free: "Practice or role-play", onboarding_tag: "onboarding self-check", live_source: "live practice",
        scenario_onboarding: "Onboarding self-check (counts in the cohort view)",
        missed_title: "Added by a trainer (not flagged by the coach)", missed_rule: "Rule", missed_at: "At (s)", missed_add: "Add",
        f_warn: "Warning", f_fail: "Fail", peak: "at its clearest: {v}", for_reference: "⚠ for reference only", cohort_option: "{name} ({n} people)", cohort_option_one: "{name} ({n} person)", l_person: "Trainee", evidence_alt: "Evidence frame", teeth_alt: "Teeth crop",
        upload_title: "Score a recording", person: "Trainee", video: "Video file", people_in_view: "People in view",
        one_person: "One person (the trainee practising alone)", trainee_left: "Two-person role-play: the trainee is on the left",
        trainee_right: "Two-person role-play: the trainee is on the right", posture: "Posture", posture_auto: "Decide automatically",
        posture_standing: "Standing", posture_sitting: "Sitting", keep_evidence: "Keep evidence snapshots (for review)",
        consent: "The person filmed agreed to this video being stored", consent_self: "I agree to this video being stored", upload_go: "Upload and score", uploading: "Uploading…",
        queued: "Queued…", analysing: "Analysing", done: "Done", failed: "Failed",
        st_queued: "queued", st_running: "analysing", st_done: "analysed", st_failed: "analysis failed",
        no_people: "No trainees to upload for (HR adds trainees to your cohort)",
        no_consent_person: " (no consent to store videos)",
        no_consented_people: "No trainee has consented to videos being stored: the person or HR must record it first",
        no_consent_self: "To upload a recording, first tick “I agree to my practice videos being stored” above.",
        upload_hint: "Videos stay on this server. Film two-person role-plays at an angle of about 45° to the pair: "
          + "from straight at the side most standing rules (arms, hands, feet, shoulders) cannot be judged; "
          + "at about 45° those rules and the handshake lean can all be assessed. Only the distance to the "
          + "customer needs a straight side-on view to be measured.",
        sign_out: "Sign out", signed_out_under_page: "You are signed out (the session expired, or HR disabled this login); sign in again.",
        consent_title: "People and consent",
        consent_hint: "A person's consent must be recorded before videos of them are stored. Withdrawing it deletes "
          + "their stored videos and evidence pictures (scores and reviews are kept).",
        consent_state: "Consent to store videos", consent_yes: "Agreed", consent_no: "Not agreed",
        consent_record: "Record consent", consent_withdraw: "Withdraw consent", consent_nobody: "No people yet.",
        consent_confirm: "Withdrawing {name}'s consent deletes their stored videos and evidence pictures; this cannot "
          + "be undone (scores and reviews are kept). Withdraw it?",
        my_consent: "I agree to my practice videos being stored",
        my_consent_confirm: "Withdrawing your consent deletes your stored practice videos and evidence pictures; this "
          + "cannot be undone (scores are kept). Withdraw it?",
        consent_confirm_yes: "Withdraw and delete", consent_confirm_no: "Cancel",
        consent_recorded: "Recorded: {name} agrees to videos being stored.",
        my_consent_recorded: "Recorded: you agree to your practice videos being stored.",
        consent_withdrawn: "Consent withdrawn for {name}: {files}; scores kept.",
        my_consent_withdrawn: "Your consent is withdrawn: {files}; scores kept.",
        files_none: "there were no stored videos or pictures to delete", files_one: "1 file deleted (a video or evidence picture)",
        files_many: "{n} files deleted (videos and evidence pictures)",
        rename: "Rename", rename_save: "Save", rename_cancel: "Cancel", rename_label: "The cohort's new name",
        logins_title: "Logins",
        logins_hint: "When a trainee or trainer leaves, disable their login: it is signed out everywhere at once and "
          + "can no longer sign in; their records, scores and reviews stay.",
        l_login: "Login", l_role: "Role", l_state: "State", l_active: "Active", l_disabled: "Disabled",
        l_disable: "Disable", l_enable: "Enable", l_you: " (you)", l_own: "You cannot disable your own login",
        l_disabled_said: "{name}'s login is disabled: signed out everywhere; their records stay.",
        l_enabled_said: "{name}'s login is enabled: it can sign in again." },
};
// The language is the one chosen last on this browser (shared with the live page), else the browser's.
let lang = localStorage.getItem("pc.lang") || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en");
if (lang !== "zh" && lang !== "en") lang = "zh";
let csrf = null;
let me = null;  // the signed-in user ({username, role, ...}), null before signing in
let openSession = null;  // the session whose findings are shown (re-drawn in the other language)
let upState = null;  // the upload status line: [key, extra text], re-drawn in the other language
const rescoring = {};  // session id -> the new session scoring its video again, while that runs
let signedIn = 0;  // counts sign-outs: an answer asked for before one is not drawn after it
let peopleList = null;  // GET /api/people: who this user may upload for, with their consent
let consentPending = null;  // the person whose withdrawal of consent waits for a "yes"
let consentSaid = null;  // the last consent change ({key, name, n}), said again in the other language
let consentErr = null;  // why the last consent change was refused
let cohortList = [];  // GET /api/cohorts: the cohorts the picker offers
let renaming = false;  // HR's box to rename the picked cohort is open
let renameErr = null;  // why the last rename was refused
let loginList = null;  // GET /api/users (HR): every login, its role, whether it is disabled
let loginSaid = null;  // the last login disabled or enabled ({key, name}), said again in the other language
let loginErr = null;  // why the last change of a login was refused
let listed = {};  // session id -> its row of GET /api/sessions (its date for the detail's heading)
const jobsOf = {};  // session id -> the last state of its analysis polled by this page ({status, progress})
const $ = (id) => document.getElementById(id);
// The reader's time zone for report times (a server in UTC would print UTC otherwise).
const tzq = (() => {
  try {
    const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return z ? `&tz=${encodeURIComponent(z)}` : "";
  } catch { return ""; }
})();
const t = (k, vars = {}) => (T[lang][k] ?? k).replace(/\{(\w+)\}/g, (_, v) => vars[v] ?? "");
const canReview = () => me !== null && (me.role === "trainer" || me.role === "hr_admin");
const pct = (x) => (x == null ? "—" : String(Math.round(100 * x)));  // as the reports round (scoring.points)
const both = (k) => ({ zh: T.zh[k], en: T.en[k] });  // a text of this page in both languages
// "（x）" in Chinese (full-width, no space before it), " (x)" in English.
const paren = (x) => (lang === "zh" ? `（${x}）` : ` (${x})`);

function paint() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("doc_title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  // The heading says what this page is for whoever signed in.
  $("page-title").textContent = t(me ? `title_${me.role}` : "title_signin");
  $("upload-title").textContent = t(me && me.role === "trainee" ? "upload_title_trainee" : "upload_title");
  drawWho();
  // The agreement export in the page's language (its columns and rule titles).
  document.querySelector("#agreement-link a").href = `/api/agreement?format=csv&lang=${lang}`;
  // A trainee uploads their own practice: they agree themself; a trainer confirms the person filmed did.
  $("up-consent-text").textContent = t(me && me.role === "trainee" ? "consent_self" : "consent");
  $("lang").textContent = lang === "zh" ? "EN" : "中文";
  if (upState) drawStatus();
  labelPeople();
  drawConsent();
  drawRename();
  drawLogins();
}

// Who is signed in: the person's name where the login is a person's (a trainee), else the
// login name; the login name in the tooltip. "张小红（学员）".
function drawWho() {
  const who = $("who");
  if (!me) { who.textContent = ""; who.removeAttribute("title"); return; }
  const person = me.person_id != null && peopleList ? peopleList.find((p) => p.id === me.person_id) : null;
  const name = me.person_name || (person ? person.name : null) || me.username;
  who.textContent = name + paren(t(`role_${me.role}`));
  if (name !== me.username) who.title = me.username; else who.removeAttribute("title");
}

// "(no consent to store videos)" after the greyed-out people, in the page's language.
// A person as lists show them: two people of one name (two 张小红) are told apart by their
// number, so that nobody stores a video or changes consent for the wrong one.
function personLabel(p) {
  const twins = (peopleList || []).filter((q) => q.name === p.name).length > 1;
  return twins ? p.name + paren(`#${p.id}`) : p.name;
}

function labelPeople() {
  for (const o of $("up-person").options) {
    o.textContent = o.disabled ? o.dataset.name + t("no_consent_person") : o.dataset.name;
  }
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
let topError = null;  // the error said at the top of the page, to say again in the other language
function showError(el, e) {
  el.textContent = e.reasonText ? e.reasonText[lang] : e.message;
  if (el === $("error")) topError = e;
}

// A click handler whose failure (signed out, no right, server gone) is said at the top.
const guarded = (fn) => async () => {
  $("error").textContent = "";
  try { await fn(); } catch (e) { showError($("error"), e); }
};

// An error from the server: its reason code's text in both languages when it has one. A
// server error (5xx) or no answer at all carries this page's own words (reload the page),
// never the bare "Internal Server Error"; the technical message stays in ``message``.
class ApiError extends Error {
  constructor(body, fallback, status = 0) {
    super(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || fallback));
    this.status = status;
    this.reason = body.reason || null;
    this.reasonText = body.reason_text || (status >= 500 ? both("server_error") : status === 0 ? both("network_error") : null);
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
  let r;
  try {
    r = await fetch(path, { credentials: "same-origin", ...opts, headers });
  } catch (e) { throw new ApiError({}, e.message || "network error", 0); }
  if (r.status === 401 && me && !path.startsWith("/api/auth/")) {
    // Signed out under the page (the session expired, or HR disabled this login): back to
    // the sign-in form with why, not an inline "sign in again" beside a page that still
    // says who is signed in.
    clearPage();
    $("error").textContent = t("signed_out_under_page");
  }
  if (!r.ok) throw new ApiError(await r.json().catch(() => ({})), r.statusText || `HTTP ${r.status}`, r.status);
  return r.json();
}

function text(tag, s) { const el = document.createElement(tag); el.textContent = s ?? ""; return el; }

// The report's timeline (findings, the trainer's added moments, the handshake, card and bow
// with what was measured, on hover and in the table below it), drawn by the server in the
// page's language: the page showed events only as counts per rule.
function timelineBox(id) {
  const box = document.createElement("div");
  box.id = "timeline";
  box.className = "timeline-box";
  fetch(`/api/sessions/${id}/timeline?lang=${lang}`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.text() : ""))
    .then((html) => {
      box.innerHTML = html;  // the server's own markup, its texts escaped
      // Its class names (finding, event…) are the report's: prefixed, so that the page's own
      // ".finding" cards and their selectors never meet the drawing's shapes.
      for (const el of box.querySelectorAll("[class]")) el.setAttribute("class", `tl-${el.getAttribute("class")}`);
    })
    .catch(() => {});  // no timeline: the findings below say the same
  return box;
}

// A link that opens in a new tab (reports, PDFs): the review page keeps its place.
function newTab(href, label) {
  const a = text("a", label);
  Object.assign(a, { href, target: "_blank", rel: "noopener" });
  return a;
}

// A link to another session of this page (#session=N: the address says which one is open).
function sessionLink(id, label) {
  const a = text("a", label);
  a.href = `#session=${id}`;
  return a;
}

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

// A score as analysed and after the trainers' review: "99 → 100" when the review changed it.
function scoreText(raw, reviewed) {
  const a = pct(raw), b = pct(reviewed ?? raw);
  return a === b ? a : `${a} → ${b}`;
}

// -- where the page is: the open session in the address (#session=7) ------------------------

function hashSession() {
  const m = /^#session=(\d+)$/.exec(location.hash);
  return m ? Number(m[1]) : null;
}

// Reload, Back from another page and a shared link open the same session again.
function rememberSession(id) {
  const want = id == null ? "" : `#session=${id}`;
  if (location.hash !== want) history.replaceState(null, "", want || location.pathname + location.search);
}

window.addEventListener("hashchange", () => {
  const id = hashSession();
  if (me && id !== null && id !== openSession) showSession(id);
});

async function showSessions() {
  const mine = signedIn;
  const { sessions } = await api("/api/sessions");
  if (mine !== signedIn) return;  // signed out meanwhile
  const table = $("sessions");
  table.replaceChildren();
  failures = {};
  listed = Object.fromEntries(sessions.map((s) => [s.id, s]));
  if (!sessions.length) {
    table.append(row([t(me && me.role === "trainee" ? "no_sessions_trainee" : "no_sessions")]));
    return;
  }
  table.append(row(["s_id", "s_person", "s_source", "status", "score", "s_unknown", "s_date", "s_actions"]
    .map((k) => t(k)), "th"));
  for (const s of sessions) {
    if (s.failure_text) failures[s.id] = s.failure_text;
    const tr = document.createElement("tr");
    tr.id = `session-row-${s.id}`;
    // A failed analysis says why, in the page's language.
    const from = sourceName(s);
    let source = s.scenario === "onboarding" ? `${from} · ${t("onboarding_tag")}` : from;
    if (s.rescored_from != null) source += ` · ${t("rescored_from_short", { id: s.rescored_from })}`;
    // Done, but nobody could be judged (no score, all of the time not assessable): said, not "done · —".
    const nobody = s.status === "done" && s.overall_score == null && (s.unknown_share == null || s.unknown_share >= 0.995);
    const status = text("td", nobody ? t("nobody_judged") : analysisText(s.id, s.status) + because(s.failure_text));
    status.className = nobody ? "status nobody" : "status";
    if (s.superseded_by) {  // its video was scored again: the newer session is the one to go by
      tr.classList.add("superseded");
      status.append(" · ", sessionLink(s.superseded_by.id, t("superseded_short", { id: s.superseded_by.id })));
    }
    // The score after the trainers' review (what the report says), the analysed one beside it when they differ.
    const score = text("td", s.overall_score == null ? "—" : scoreText(s.overall_score, s.overall_score_reviewed));
    if (s.overall_score != null && pct(s.overall_score) !== pct(s.overall_score_reviewed ?? s.overall_score)) {
      score.title = t("score_before", { a: pct(s.overall_score), b: pct(s.overall_score_reviewed) });
    }
    const unknown = text("td", s.status === "done" && s.unknown_share != null ? `${pct(s.unknown_share)}%` : "—");
    unknown.className = "unknown";
    if (s.status === "done" && s.unassessable_high) {
      unknown.classList.add("high");
      unknown.title = t("unknown_high_title");
      // Not red (red reads "failed"): the score in its normal colour, marked "for reference only".
      if (s.overall_score != null) {
        score.classList.add("doubtful");
        score.title = t("unknown_high_title");
        const mark = text("span", t("for_reference"));
        mark.className = "ref-only";
        score.append(" ", mark);
      }
    }
    // What the analysis noticed (a video turned sideways, cut off part-way, a role-play with
    // nobody else in it) marks the score here too, not only on the session's own page.
    const noted = (s.notices || []).filter((n) => n.text);
    if (noted.length && s.overall_score != null) {
      const mark = text("span", " ⚠");
      mark.className = "noticed";
      mark.title = noted.map((n) => n.text[lang]).join("\n");
      score.append(mark);
    }
    tr.append(text("td", `#${s.id}`), text("td", s.person_name ? personLabel({ id: s.person_id, name: s.person_name }) : "—"), text("td", source), status, score, unknown,
              text("td", when(s.created_at)));
    const td = document.createElement("td");
    const open = text("button", t("open") + " ›");
    open.onclick = guarded(() => showSession(s.id));
    td.append(open);
    if (s.status === "done") {  // a queued, running or failed analysis has no report yet
      td.append(" ", newTab(`/api/sessions/${s.id}/report?lang=${lang}${tzq}`, t("report")), " · ",
                newTab(`/api/sessions/${s.id}/report.pdf?lang=${lang}${tzq}`, t("pdf")));
    }
    tr.append(td);
    table.append(tr);
  }
}

// A session's analysis as the list says it: "分析中 32%" while this page follows its job
// (its own upload, a scoring again), else the status the server gave.
function analysisText(id, status) {
  const job = jobsOf[id];
  const live = (status === "queued" || status === "running") && job && (job.status === "queued" || job.status === "running");
  const st = live ? job.status : status;
  const pctText = live && st === "running" ? ` ${Math.round(100 * (job.progress || 0))}%` : "";
  return (t(`st_${st}`) || st) + pctText;
}

// A job polled: its session's row (listed at once, before the analysis ends) says how far it is.
function followJob(id, job) {
  jobsOf[id] = { status: job.status, progress: job.progress };
  const cell = document.querySelector(`#session-row-${id} td.status`);
  if (cell && (job.status === "queued" || job.status === "running")) {
    cell.textContent = analysisText(id, job.status);
  }
}

// Score the session's video again as a new session with the trainee on ``side()`` (left or
// right): one click, one new session; the button waits for the analysis and the new session
// opens when it is done. ``form`` gets the controls, what was said and any refusal.
function rescoreControls(id, form, go, side, inputs = []) {
  const said = text("span", "");
  said.className = "rescore-said";
  const err = text("span", "");
  err.className = "err";
  const busy = (newId) => {  // one click, one new session: the button waits for the analysis
    go.disabled = true;
    for (const el of inputs) el.disabled = true;
    said.textContent = " " + (newId == null ? t("rescore_sending") : t("rescore_queued", { id: newId }));
  };
  if (id in rescoring) busy(rescoring[id]);  // drawn again (the other language) while it runs
  go.onclick = async () => {
    if (go.disabled) return;
    busy(null);
    err.textContent = "";
    let r;
    try {
      r = await api(`/api/sessions/${id}/reanalyse`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ role_play: side() }),
      });
    } catch (e) {
      go.disabled = false;
      for (const el of inputs) el.disabled = false;
      said.textContent = "";
      showError(err, e);
      return;
    }
    rescoring[id] = r.session_id;
    busy(r.session_id);
    try {
      await showSessions();  // the new session, and this one marked as scored again
      await finishedJob(r.job_id, (j) => followJob(r.session_id, j));
    } catch (e) {
      showError(err, e);
    } finally {
      delete rescoring[id];
    }
    try { await showSessions(); } catch (e) { showError($("error"), e); }
    if (openSession === id) await showSession(r.session_id);  // still looking at it: open the new one
  };
  form.append(said, " ", err);
  return form;
}

// The "two people in view" notice's way out: the video scored again as a role-play, the
// trainee's side picked.
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
  form.append(text("span", t("rescore_as")), pick, " ", go);
  return rescoreControls(id, form, go, () => pick.value, [pick]);
}

// A role-play with nobody else in view: the way out, the same video scored as practice alone.
function aloneForm(id) {
  const form = document.createElement("div");
  form.className = "rescore alone";
  const go = text("button", t("rescore_alone"));
  go.id = `rescore-alone-${id}`;
  form.append(go);
  return rescoreControls(id, form, go, () => "none");
}

// A two-person role-play: which side was scored as the trainee, and, for a trainer, the
// way to score it again with the trainee on the other side (uploaded with the wrong side,
// the customer was scored).
function sideLine(id, rep) {
  const side = rep.session.role_play;
  const other = side === "left" ? "right" : "left";
  const line = document.createElement("div");
  line.className = "hint role-play-side";
  line.append(text("span", t("role_play_line", { side: t(`side_${side}`) })));
  const superseded = rep.superseded_by && rep.superseded_by.status !== "failed";
  if (!canReview() || rep.session.kind === "live" || rep.session.status !== "done" || superseded) return line;
  line.classList.add("other-side");
  const go = text("button", t(`other_side_go_${other}`));
  go.id = `rescore-other-${id}`;
  go.dataset.side = other;
  line.append(lang === "zh" ? "" : " ", text("span", t(`other_side_${other}`)), " ", go);
  return rescoreControls(id, line, go, () => other);
}

// The session could not be loaded (a server error, signed out, deleted): said in the
// detail, in the page's language, with the technical message folded below. The upload's
// status line is not touched: the analysis did not fail.
function loadFailed(box, id, e) {
  const p = text("p", t("load_failed", { id }) + because(e.reasonText || both("server_error")));
  p.className = "err load-failed";
  const h = text("h3", `#${id}`);
  h.dataset.session = id;
  box.replaceChildren(h, p);
  if (e.message) {
    const d = document.createElement("details");
    d.className = "detail";
    d.append(text("summary", t("details")), text("small", e.message));
    box.append(d);
  }
}

// Whose session, of what, when: "张小红 · onboarding.mp4 · 2026-11-25 16:39（入职自检） #1"
// (the trainer scrolling through the findings sees whose they are; the number, grey, last).
function sessionHeading(id, sess) {
  const row = listed[id] || {};
  const date = row.created_at || sess.created_at || sess.analysed_at;
  const who = row.person_name && row.person_id != null ? personLabel({ id: row.person_id, name: row.person_name })
    : sess.person;
  const parts = [who, sourceName(sess), date ? when(date) : null].filter(Boolean);
  const h = text("h3", parts.join(" · ") + (sess.scenario === "onboarding" ? paren(t("onboarding_tag")) : ""));
  h.dataset.session = id;
  const num = text("span", ` #${id}`);
  num.className = "sid";
  h.append(num);
  return h;
}

async function showSession(id) {
  openSession = id;
  rememberSession(id);
  const box = $("detail");
  const mine = signedIn;
  let rep;
  try {
    rep = await api(`/api/sessions/${id}`);
  } catch (e) {
    if (openSession !== id || mine !== signedIn) return;
    loadFailed(box, id, e);
    if (e.status === 403 || e.status === 404) { openSession = null; rememberSession(null); }
    return;
  }
  if (openSession !== id || mine !== signedIn) return;  // another session was opened, or signed out, meanwhile
  box.replaceChildren(sessionHeading(id, rep.session));
  const status = rep.session.status;
  if (status === "done") {
    const links = document.createElement("p");
    links.className = "links";
    links.append(newTab(`/api/sessions/${id}/report?lang=${lang}${tzq}`, t("report")), " · ",
                 newTab(`/api/sessions/${id}/report.pdf?lang=${lang}${tzq}`, t("pdf")));
    box.append(links);
  }
  // Scored again: which session is the newer one, or which one this scores again.
  if (rep.superseded_by) {
    const nid = rep.superseded_by.id;
    const running = rep.superseded_by.status === "queued" || rep.superseded_by.status === "running";
    const p = text("p", t(running ? "superseded_pending" : "superseded", { id: nid }));
    p.className = "notice superseded";
    p.append(sessionLink(nid, t("superseded_open", { id: nid })));
    box.append(p);
  }
  if (rep.rescored_from != null) {
    const p = text("p", "");
    p.className = "hint rescored-from";
    p.append(sessionLink(rep.rescored_from, t("rescored_from", { id: rep.rescored_from })));
    box.append(p);
  }
  // What the analysis noticed about the video (two people in a clip scored as practice
  // alone), and the way out: the same video scored again as a role-play, a new session.
  for (const n of rep.notices || []) {
    const p = text("p", n.text ? n.text[lang] : n.code);
    p.className = "notice";
    box.append(p);
    // Scoring again is a trainer's call: the new session supersedes one they may have reviewed.
    if (n.code === "two_people_in_view" && !rep.session.role_play && canReview()) box.append(rescoreForm(id));
    // A role-play with nobody else in it: scored again as practice alone.
    if (n.code === "one_person_in_role_play" && canReview() && rep.session.status === "done") {
      box.append(aloneForm(id));
    }
  }
  // A two-person role-play: the side scored as the trainee, and the other side to score instead.
  // (Not beside the "nobody else in view" note: its way out is scoring it as practice alone.)
  const alone = (rep.notices || []).some((n) => n.code === "one_person_in_role_play");
  if ((rep.session.role_play === "left" || rep.session.role_play === "right") && !alone) box.append(sideLine(id, rep));
  // An onboarding self-check: what it means in each of the person's cohorts, as the
  // cohort table and the report say it (a score alone said nothing of "incomplete").
  for (const c of rep.self_check || []) box.append(selfCheckLine(rep, c));
  if (status !== "done") {
    // Not analysed (yet, or it failed): no findings is not "no problems found".
    box.append(text("p", (t(`st_${status}`) || status) + because(failures[id])));
    return;
  }
  box.append(...scoreLines(rep));
  if (!nobodyJudged(rep)) box.append(timelineBox(id));
  const gap = rep.unassessable || {};
  // Nobody could be judged (a black clip, nobody in view): no findings is no news.
  if (rep.findings.length || !nobodyJudged(rep)) box.append(text("h4", t("findings_title")));
  if (!rep.findings.length && !nobodyJudged(rep)) {
    // "No problems" only for the time that could be seen.
    box.append(text("p", gap.share ? t("none_with_gap", { p: pct(gap.share) }) : t("none")));
  }
  for (const f of rep.findings) box.append(findingCard(id, rep, f));
  box.append(missedForm(id, rep));
  box.append(...rulesTable(rep));
}

// The score (after the trainers' review) and how much could not be assessed; from a quarter
// of the time on, with the main reasons, and from half of it on said plainly: a 100 from
// what little could be seen is no 100.
function scoreLines(rep) {
  const gap = rep.unassessable || {};
  const nobody = nobodyJudged(rep);
  const line = text("p", nobody ? t("nobody_judged") : rep.overall_score == null ? t("score_line", { s: "—" })
    : pct(rep.overall_score) === pct(rep.overall_score_reviewed ?? rep.overall_score)
      ? t("score_line", { s: pct(rep.overall_score) })
      : t("score_line_reviewed", { a: pct(rep.overall_score), b: pct(rep.overall_score_reviewed) }));
  line.id = "score-line";
  line.className = nobody ? "scores nobody" : "scores";
  if (gap.share != null) {
    const u = text("span", ` · ${t("unknown_line", { p: pct(gap.share) })}`);
    if (gap.high) u.className = "high";
    line.append(u);
  }
  const out = [line];
  if (gap.high || gap.notable) {
    const why = (gap.top_reasons || []).map((r) => (r.text ? r.text[lang] : r.reason)).join(t("r_sep"));
    // With no score at all, nothing is said of what the score covers.
    const key = nobody ? "unassessable_all" : gap.high ? "unassessable_high" : "unassessable_some";
    const p = text("p", t(key, { p: pct(gap.share), why: why || "—" }));
    p.className = gap.high ? "notice unassessable high-gap" : "notice unassessable";
    p.id = "unassessable";
    out.push(p);
  }
  return out;
}

// An analysis where nobody could be judged (a black clip, nobody in view): done, but no
// rule could be assessed, so there is no score to read, only a recording to make again.
function nobodyJudged(rep) {
  return rep.session.status === "done" && rep.overall_score == null
    && !(rep.rules || []).some((r) => r.score != null);
}

// After a review (a finding agreed or disagreed with, a missed violation added or deleted):
// the session, the sessions list and the open cohort table all say the score after review,
// never "98 → 99" in one place and the score before it in another.
async function afterReview(id) {
  await showSession(id);
  try {
    await showSessions();
    if (openCohort !== null) await showCohort(openCohort);
  } catch (e) { showError($("error"), e); }
}

function findingCard(id, rep, f) {
  const div = document.createElement("div");
  div.className = "finding";
  const badge = text("span", t(`f_${f.status}`) || f.status);
  badge.className = `badge ${f.status}`;
  const decided = f.review ? f.review.decision : null;
  // The measured value where the finding was clearest ("最明显时 1.32 倍肩宽"), not a "peak".
  const peak = f.peak_text && f.peak_text[lang] ? ` · ${t("peak", { v: f.peak_text[lang] })}` : "";
  const secs = `${(f.start_ms / 1000).toFixed(1)}–${((f.end_ms ?? f.start_ms) / 1000).toFixed(1)} ${t("sec")}`;
  div.append(text("b", ruleTitle(rep.rules, f.rule_id)), " ", badge);
  if (decided === "disagree") {  // the trainer disagrees: it costs nothing, and looks it
    div.classList.add("disagreed");
    badge.classList.add("off");
    const off = text("span", t("not_counted"));
    off.className = "not-counted";
    div.append(" ", off);
  }
  div.append(text("span", ` ${secs}${peak}${lang === "zh" && f.review ? "" : " "}`));  // no space before "（"
  if (f.review) {  // the decision, with the reviewer's comment and name
    // "（不同意：… · 复核人：zhuguan）" in Chinese, "(Disagree: … — reviewer zhuguan)" in English.
    const zh = lang === "zh";
    const said = f.review.comment ? `${zh ? "：" : ": "}${f.review.comment}` : "";
    const by = f.review.trainer ? (zh ? ` · ${t("reviewed_by")}：${f.review.trainer}` : ` — ${t("reviewed_by")} ${f.review.trainer}`) : "";
    const rv = text("span", zh ? `（${t(f.review.decision)}${said}${by}）` : `(${t(f.review.decision)}${said}${by})`);
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
    const a = newTab(url, "");  // the full-size frame, in a new tab
    a.append(img);
    shots.append(a);
  }
  if (shots.childElementCount) div.append(shots);
  if (canReview()) {
    const act = document.createElement("div");
    act.className = "act";
    const comment = document.createElement("textarea");
    Object.assign(comment, { placeholder: t("comment"), className: "comment", rows: 2, maxLength: 4000 });
    comment.setAttribute("aria-label", t("comment"));
    comment.value = f.review && f.review.comment ? f.review.comment : "";  // edit, not retype, a comment
    const err = text("span", "");
    err.className = "err";
    const buttons = document.createElement("span");
    for (const decision of ["agree", "disagree"]) {
      const b = text("button", t(decision));
      b.className = `decide ${decision}`;
      b.setAttribute("aria-pressed", String(decided === decision));  // the decision made, shown pressed
      b.onclick = async () => {
        err.textContent = "";
        try {
          await api(`/api/findings/${f.id}/review`, { method: "POST", headers: { "Content-Type": "application/json" },
                    body: JSON.stringify({ decision, comment: comment.value }) });
        } catch (e) { showError(err, e); return; }
        await afterReview(id);
      };
      buttons.append(b);
    }
    act.append(buttons, comment, " ", err);
    div.append(act);
  }
  return div;
}

// Each rule: its score (→ after review), the time or events it was judged on, and, when it
// could not be assessed, why; the rules that did not apply at all folded below.
// "入职自检（2026-A）：未完成——没有看到这些步骤：鞠躬问候、握手" for one cohort.
function selfCheckLine(rep, c) {
  const titles = Object.fromEntries((rep.rules || []).map((r) => [r.rule_id, lang === "zh" ? r.title_zh : r.title_en]));
  const sep = lang === "zh" ? "、" : ", ";
  const steps = (c.missing_steps || []).map((m) => (lang === "zh" ? m.title_zh : m.title_en) || m.id);
  let key = `sc_${c.result}`;
  let detail = "";
  if (c.result === "incomplete" && steps.length) {
    key = "sc_not_shown";
    detail = steps.join(sep);
  } else if (c.result === "failed") {
    detail = (c.not_passed || []).map((rid) => titles[rid] || rid).join(sep);
  }
  const p = text("p", t(key, { cohort: c.cohort, detail }) + (c.counted ? "" : t("sc_not_counted")));
  p.className = c.result === "passed" ? "notice ok self-check" : "notice self-check";
  p.dataset.result = c.result;
  return p;
}

function rulesTable(rep) {
  const rules = rep.rules || [];
  const title = (r) => (lang === "zh" ? r.title_zh : r.title_en);
  const why = (r) => (r.top_reason_text ? r.top_reason_text[lang] : r.top_reason || "—");
  const assessed = rules.filter((r) => r.score != null);
  // A rule the coach could not judge (or that did not apply) on which a trainer added a
  // violation has a reviewed score: listed with it, so the overall score's drop is explained.
  const added = rules.filter((r) => r.score == null && r.score_reviewed != null);
  const blind = rules.filter((r) => r.score == null && r.score_reviewed == null && !r.not_applied);
  const skipped = rules.filter((r) => r.score == null && r.score_reviewed == null && r.not_applied);
  const table = document.createElement("table");
  table.id = "rule-table";
  table.append(row(["r_rule", "r_score", "r_judged", "r_note"].map(t), "th"));
  for (const r of assessed) {
    const judged = r.events_judged != null
      ? t(r.events_judged === 1 ? "r_event_one" : "r_event_many", { n: r.events_judged })
      : r.assessable_s == null ? "—" : `${r.assessable_s.toFixed(1)} ${t("sec")}`;
    const notes = [];
    if (r.thin_evidence) notes.push(t("r_thin"));
    if (r.unknown_share >= 0.005 && r.top_reason_text) {
      notes.push(t("r_partly", { p: pct(r.unknown_share), why: why(r) }));
    }
    const tr = row([title(r), scoreText(r.score, r.score_reviewed), judged, notes.join(t("r_sep"))]);
    tr.dataset.rule = r.rule_id;
    if (r.thin_evidence) tr.classList.add("thin");
    table.append(tr);
  }
  for (const r of added) {
    // Scored by the trainer: not "not assessable" beside the trainer's score.
    const tr = row([title(r), t("r_added", { s: pct(r.score_reviewed) }), "—", t("r_trainer_judged")]);
    tr.dataset.rule = r.rule_id;
    tr.className = "added";
    table.append(tr);
  }
  for (const r of blind) {
    const tr = row([title(r), "—", "—", t("r_not_assessable", { why: why(r) })]);
    tr.dataset.rule = r.rule_id;
    tr.className = "na";
    table.append(tr);
  }
  const out = [text("h4", t("rules_title")), table];
  if (skipped.length) {
    const d = document.createElement("details");
    d.id = "rules-not-applied";
    d.append(text("summary", t("r_not_applied", { n: skipped.length })));
    const item = (r) => (lang === "zh" ? `${title(r)}（${why(r)}）` : `${title(r)} (${why(r)})`);
    d.append(text("p", skipped.map(item).join(t("r_sep"))));
    out.push(d);
  }
  return out;
}

// The group of a rule, from its id's prefix ("standing.upright" → standing).
const RULE_GROUP = { standing: "standing", sitting: "sitting", face: "face", handover: "interaction",
                     handshake: "interaction", greeting: "interaction", gesture: "interaction",
                     distance: "distance", grooming: "grooming" };

// Standing or sitting, as the session was scored: the session's posture when the server
// says it, else the posture whose rules were judged longer, else the one whose rules did
// apply (a sitting rule "did not apply: not sitting" in a standing session); null unknown.
function sessionPosture(rep) {
  const said = rep.session.posture;
  if (said === "standing" || said === "sitting") return said;
  const judged = { standing: 0, sitting: 0 }, absent = { standing: 0, sitting: 0 };
  for (const r of rep.rules || []) {
    const group = r.rule_id.split(".")[0];
    if (!(group in judged)) continue;
    if (r.score != null) judged[group] += r.assessable_s || 0.001;
    if (r.top_reason === `not_${group}`) absent[group] += 1;
  }
  if (judged.standing !== judged.sitting) return judged.standing > judged.sitting ? "standing" : "sitting";
  if (absent.standing !== absent.sitting) return absent.standing < absent.sitting ? "standing" : "sitting";
  return null;
}

// The session's rules in groups for the missed-violation picker: the session's posture,
// face, the interaction rules (handover, handshake, greeting, gestures), distance,
// grooming, and the other posture last; the catalogue's order within a group.
function ruleGroups(rep) {
  const posture = sessionPosture(rep);
  const order = posture === "sitting"
    ? ["sitting", "face", "interaction", "distance", "grooming", "standing"]
    : posture === "standing"
      ? ["standing", "face", "interaction", "distance", "grooming", "sitting"]
      : ["standing", "sitting", "face", "interaction", "distance", "grooming"];
  const groups = new Map([...order, "other"].map((g) => [g, []]));
  for (const r of rep.rules || []) groups.get(RULE_GROUP[r.rule_id.split(".")[0]] || "other").push(r);
  return [...groups].filter(([, members]) => members.length);
}

// A violation the trainer saw and the coach did not flag: listed, and a form to add one.
function missedForm(id, rep) {
  const wrap = document.createElement("div");
  wrap.className = "missed";
  wrap.append(text("h4", t("missed_title")));
  const title = (rid) => ruleTitle(rep.rules, rid);
  const err = text("span", "");
  err.className = "err";
  for (const m of rep.missed || []) {
    const at = ` · ${m.at_ms == null ? t("missed_whole") : `${(m.at_ms / 1000).toFixed(1)} ${t("sec")}`}`;
    const said = m.comment ? (lang === "zh" ? "——" : " — ") + m.comment : "";
    const p = text("p", `${title(m.rule_id)}${at}${said}${paren(lang === "zh" ? `${t("reviewed_by")}：${m.trainer}` : m.trainer)}`);
    p.className = "missed-entry";
    if (m.can_delete) {  // the trainer who added it may take it back
      const del = text("button", t("missed_delete"));
      del.className = "missed-delete";
      del.onclick = async () => {
        del.disabled = true;
        err.textContent = "";
        try {
          await api(`/api/sessions/${id}/missed/${m.id}`, { method: "DELETE" });
        } catch (e) { del.disabled = false; showError(err, e); return; }
        await afterReview(id);
      };
      p.append(" ", del);
    }
    wrap.append(p);
  }
  if (!canReview()) {  // trainees read what was added; trainers and HR add
    if (!(rep.missed || []).length) wrap.replaceChildren();
    return wrap;
  }
  const rule = document.createElement("select");
  rule.id = "missed-rule";
  rule.setAttribute("aria-label", t("missed_rule"));
  // Nothing picked at first (a rule added by accident costs the trainee points), then the
  // rules by group, the session's posture's first and the other posture's last.
  const none = text("option", t("missed_pick"));
  none.value = "";
  rule.append(none);
  for (const [group, members] of ruleGroups(rep)) {
    const og = document.createElement("optgroup");
    og.label = t(`g_${group}`);
    og.dataset.group = group;
    og.append(...members.map((r) => { const o = text("option", title(r.rule_id)); o.value = r.rule_id; return o; }));
    rule.append(og);
  }
  const at = document.createElement("input");
  // The recording's length to 0.1 s, down (28.133 → 28.1): the box's limit and its hint agree,
  // and the limit stays inside the recording.
  const dur = rep.session.duration_s == null ? null : Math.floor(rep.session.duration_s * 10 + 1e-6) / 10;
  Object.assign(at, { id: "missed-at", type: "number", min: "0", step: "0.1",
                      placeholder: dur == null ? t("missed_at") : t("missed_at_ph", { d: dur.toFixed(1) }) });
  at.setAttribute("aria-label", t("missed_at"));
  at.style.width = "10em";
  if (dur != null) at.max = dur.toFixed(1);
  // Out of the recording: the page's own words (the browser's bubble follows the browser's language).
  at.addEventListener("input", () => {
    const v = at.valueAsNumber;
    const out = dur != null && Number.isFinite(v) && (v < 0 || v > dur);
    at.setCustomValidity(out ? t("missed_at_range", { d: dur.toFixed(1) }) : "");
  });
  const note = document.createElement("textarea");
  Object.assign(note, { id: "missed-comment", placeholder: t("comment"), rows: 1, maxLength: 4000 });
  note.className = "comment";
  note.setAttribute("aria-label", t("comment"));
  const add = text("button", t("missed_add"));
  add.id = "missed-add";
  add.disabled = true;  // until a rule is picked
  rule.onchange = () => { add.disabled = !rule.value; };
  add.onclick = async () => {
    if (!rule.value) return;
    // An empty box is "no time" (the whole recording); anything typed goes to the server,
    // which says in the page's language when it is outside the recording.
    const typed = at.value.trim() !== "" || at.validity.badInput;
    const secs = parseFloat(at.value);
    err.textContent = "";
    add.disabled = true;
    try {
      await api(`/api/sessions/${id}/missed`, { method: "POST", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ rule_id: rule.value,
                                       at_ms: typed ? (Number.isFinite(secs) ? Math.round(secs * 1000) : -1) : null,
                                       comment: note.value }) });
    } catch (e) { add.disabled = !rule.value; showError(err, e); return; }
    await afterReview(id);
  };
  const row1 = document.createElement("p");
  row1.className = "missed-form";
  row1.append(rule, " ", at, " ", note, " ", add, " ", err);
  wrap.append(row1, text("p", t("missed_at_hint")));
  wrap.lastChild.className = "hint";
  return wrap;
}

let openCohort = null;  // the cohort whose table is shown

// Trainers (their cohorts) and HR (all): each member's latest onboarding self-check.
async function showCohorts(role) {
  const box = $("cohorts-box");
  const mine = signedIn;
  const { cohorts } = role === "trainer" || role === "hr_admin" ? await api("/api/cohorts") : { cohorts: [] };
  if (mine !== signedIn) return;
  cohortList = cohorts;
  box.classList.toggle("hidden", !cohorts.length);
  drawRename();
  if (!cohorts.length) return;
  const sel = $("cohort-sel");
  sel.replaceChildren(...cohorts.map((c) => {
    const o = text("option", t(c.members === 1 ? "cohort_option_one" : "cohort_option", { name: c.name, n: c.members }));  // "2025年3月（3 人）"
    o.value = c.id;
    return o;
  }));
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
  const mine = signedIn;
  const tb = await api(`/api/cohorts/${id}/table?${tzq.slice(1)}`);
  if (mine !== signedIn || openCohort !== id) return;  // signed out, or another cohort picked, meanwhile
  $("cohort-csv").href = `/api/cohorts/${id}/table?format=csv&lang=${lang}${tzq}`;
  const title = (rid) => (tb.rule_titles && tb.rule_titles[rid] ? tb.rule_titles[rid][lang] : rid);
  const pct = (x) => (x == null ? "—" : `${Math.round(100 * x)}`);
  const people = $("cohort-people");
  people.replaceChildren(row(["c_person", "c_result", "c_score", "c_failed", "c_date", "c_report"].map(t), "th"));
  for (const p of tb.people) {
    // passed | failed | incomplete (stopped part-way) | not_assessable (nobody judged) | not done
    const res = p.result || (p.session_id == null ? null : (p.passed ? "passed" : "failed"));
    const key = { passed: "c_passed", failed: "c_not_passed", incomplete: "c_incomplete",
                  not_assessable: "c_not_assessable" }[res] || "c_not_done";
    // A recording uploaded as the self-check that does not show every step: say which.
    const notShown = res === "incomplete" && Array.isArray(p.missing_steps) && p.missing_steps.length
      ? p.missing_steps.map((m) => (lang === "zh" ? m.title_zh : m.title_en) || m.id).join(lang === "zh" ? "、" : ", ") : "";
    const result = text("td", notShown ? t("c_not_shown", { steps: notShown }) : t(key));
    if (res) result.className = res === "passed" ? "pass" : "fail-t";
    const failedRules = Object.entries(p.rules).filter(([, v]) => v === "fail").map(([rid]) => title(rid));
    const paren = (x) => (lang === "zh" ? `（${x}）` : ` (${x})`);
    // Only a recommended rule warns here: "(warning)" says it, without "(recommended)" before it.
    const plain = (rid) => title(rid).replace(/\s*[（(](recommended|推荐做到)[)）]\s*$/i, "");
    const warned = Object.entries(p.rules).filter(([, v]) => v === "warn").map(([rid]) => plain(rid) + paren(t("c_warn")));
    const link = document.createElement("td");
    if (p.session_id != null) {
      link.append(newTab(`/api/sessions/${p.session_id}/report?lang=${lang}${tzq}`, t("c_report")));
      if (p.kind === "live") link.append(` · ${t("live_source")}`);  // saved from the live page
    }
    // A score over what could be seen: say so when half the time or more could not be.
    const blind = p.unassessable_high ? `${lang === "zh" ? "" : " "}${t("c_mostly_unassessable", { n: pct(p.unknown_share) })}` : "";
    people.append(row([text("td", personLabel({ id: p.person_id, name: p.name })), result, text("td", pct(p.overall) + blind),
                       text("td", [...failedRules, ...warned].join(t("c_sep")) || "—"), text("td", p.date || "—"), link]));
  }
  $("cohort-note").textContent = t("c_rule_note", { p: pct(tb.cohort.pass_score) });
  const rules = $("cohort-rules");
  if (!Object.keys(tb.rules).length) {  // nobody's self-check is in yet
    rules.replaceChildren(row(["—"]));
    return;
  }
  rules.replaceChildren(row(["c_rule", "c_assessed", "c_rate"].map(t), "th"));
  // The rules the cohort misses most first (lowest pass rate first, whatever kind); at the
  // same rate, required before recommended (marked: missed, they only warn), then by group
  // (standing, sitting, face, handshake and handover, distance, grooming).
  const rec = (rid) => Boolean(tb.rule_titles && tb.rule_titles[rid] && tb.rule_titles[rid].recommended);
  const GROUPS = ["standing", "sitting", "face", "interaction", "distance", "grooming"];
  const group = (rid) => {
    const g = GROUPS.indexOf(RULE_GROUP[rid.split(".")[0]]);
    return g < 0 ? GROUPS.length : g;
  };
  const rate = (r) => (r.pass_rate == null ? Infinity : r.pass_rate);
  const byRate = Object.entries(tb.rules).sort(([a, x], [b, y]) => rate(x) - rate(y) || rec(a) - rec(b)
                                                 || group(a) - group(b) || title(a).localeCompare(title(b), lang));
  for (const [rid, r] of byRate) {
    // "面带微笑（推荐做到）": no space before the full-width bracket.
    const marked = `${title(rid)}${lang === "zh" ? "" : " "}${t("c_recommended")}`;
    const name = rec(rid) && !/recommended|推荐/i.test(title(rid)) ? marked : title(rid);
    const tr = row([name, `${r.passed} / ${r.assessed}`, `${pct(r.pass_rate)}%`]);
    tr.dataset.rule = rid;
    rules.append(tr);
  }
}

// -- HR: a cohort's name (a typo, a new intake name) -----------------------------------------

function drawRename() {
  const hr = me !== null && me.role === "hr_admin" && cohortList.length > 0;
  if (!hr) renaming = false;
  $("cohort-rename").classList.toggle("hidden", !hr || renaming);
  $("cohort-rename-form").classList.toggle("hidden", !renaming);
  $("cohort-sel").disabled = renaming;  // the box renames the cohort picked when it opened
  $("cohort-name").setAttribute("aria-label", t("rename_label"));
  $("cohort-rename-err").textContent = "";
  if (renaming && renameErr) showError($("cohort-rename-err"), renameErr);
}

function openRename() {
  const c = cohortList.find((x) => x.id === openCohort);
  if (!c) return;
  renaming = true;
  renameErr = null;
  $("cohort-name").value = c.name;
  drawRename();
  $("cohort-name").focus();
  $("cohort-name").select();
}

function closeRename() {
  renaming = false;
  renameErr = null;
  drawRename();
}

async function saveRename() {
  const mine = signedIn, id = openCohort;
  const buttons = [$("cohort-rename-save"), $("cohort-rename-cancel")];
  for (const b of buttons) b.disabled = true;  // one click, one rename
  renameErr = null;
  try {
    await api(`/api/cohorts/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
                                      body: JSON.stringify({ name: $("cohort-name").value }) });
  } catch (e) {
    if (mine !== signedIn) return;
    renameErr = e;
    drawRename();
    return;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
  if (mine !== signedIn) return;
  closeRename();
  // The picker, the table and the open session's self-check lines say the new name.
  try {
    await showCohorts(me.role);
    if (openSession !== null) await showSession(openSession);
  } catch (e) { showError($("error"), e); }
}

$("cohort-rename").addEventListener("click", openRename);
$("cohort-rename-cancel").addEventListener("click", closeRename);
$("cohort-rename-save").addEventListener("click", saveRename);
$("cohort-name").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter") { ev.preventDefault(); saveRename(); }
  else if (ev.key === "Escape") closeRename();
});

// Who the upload form offers, and (HR, a trainee) where consent is recorded.
async function showPeople() {
  const mine = signedIn;
  const { people } = await api("/api/people");
  if (mine !== signedIn) return;
  peopleList = people;
  drawWho();  // a trainee's own name, from their record
  drawConsent();
  const sel = $("up-person");
  const keep = sel.value;
  // A person whose record says "no consent" is listed, greyed out, so nobody wonders
  // where they went; the server refuses their recordings too.
  sel.replaceChildren(...people.map((p) => {
    const o = text("option", personLabel(p));
    o.value = p.id;
    o.dataset.name = personLabel(p);
    o.disabled = !p.consent_media;
    return o;
  }));
  labelPeople();
  const allowed = people.filter((p) => p.consent_media);
  if (keep && allowed.some((p) => String(p.id) === keep)) sel.value = keep;
  else if (allowed.length) sel.value = String(allowed[0].id);
  else if (people.length) sel.selectedIndex = 0;  // shown greyed, with why, not a blank box
  $("up-go").disabled = !allowed.length;
  if (!people.length) setStatus("no_people");
  else if (!allowed.length) setStatus(me && me.role === "trainee" ? "no_consent_self" : "no_consented_people");
  else if (upState && ["no_people", "no_consented_people", "no_consent_self"].includes(upState[0])) {
    upState = null;  // someone can be picked now: the line saying nobody could goes
    $("up-status").textContent = "";
  }
}

// -- consent to videos being stored: HR for anyone, a trainee for themself ----------------

// "3 files deleted (videos and evidence pictures)", in the page's language.
function filesText(n) {
  return n === 0 ? t("files_none") : n === 1 ? t("files_one") : t("files_many", { n });
}

function drawConsent() {
  const hr = me !== null && me.role === "hr_admin" && peopleList !== null;
  const self = me !== null && me.role === "trainee" && peopleList !== null;
  $("consent-box").classList.toggle("hidden", !hr);
  $("my-consent").classList.toggle("hidden", !self);
  if (hr) drawConsentTable(); else $("consent-people").replaceChildren();
  if (self) drawMyConsent(); else $("my-consent").replaceChildren();
  $("consent-said").textContent = hr ? consentSaidText() : "";
  $("consent-err").textContent = "";
  if (hr && consentErr) showError($("consent-err"), consentErr);
}

// What the last consent change did, in the page's language ("" before any).
function consentSaidText() {
  return consentSaid ? t(consentSaid.key, { name: consentSaid.name, files: filesText(consentSaid.n) }) : "";
}

// Before consent is withdrawn: what will be deleted, and a "yes" or "cancel".
function confirmWithdrawal(person, self) {
  const box = document.createElement("div");
  box.className = "notice consent-confirm";
  box.id = "consent-confirm";
  const yes = text("button", t("consent_confirm_yes"));
  yes.id = "consent-yes";
  yes.onclick = () => setConsent(person, false);
  const no = text("button", t("consent_confirm_no"));
  no.id = "consent-no";
  no.onclick = () => { consentPending = null; drawConsent(); };
  box.append(text("span", t(self ? "my_consent_confirm" : "consent_confirm", { name: person.name })), " ", yes, no);
  return box;
}

// HR: everyone, whether they consent, and a button to record or withdraw it.
function drawConsentTable() {
  const table = $("consent-people");
  table.replaceChildren(row([t("c_person"), t("consent_state"), ""], "th"));
  if (!peopleList.length) table.append(row([t("consent_nobody")]));
  for (const p of peopleList) {
    const state = text("td", t(p.consent_media ? "consent_yes" : "consent_no"));
    state.className = p.consent_media ? "pass" : "fail-t";
    const act = document.createElement("td");
    const b = text("button", t(p.consent_media ? "consent_withdraw" : "consent_record"));
    b.className = "consent-toggle";
    b.disabled = consentPending !== null;
    b.onclick = () => {
      if (!p.consent_media) { setConsent(p, true); return; }
      consentPending = p.id;  // withdrawing deletes their videos: asked first
      consentSaid = consentErr = null;
      drawConsent();
    };
    act.append(b);
    const tr = row([text("td", personLabel(p)), state, act]);
    tr.id = `consent-row-${p.id}`;
    table.append(tr);
    if (consentPending === p.id) {
      const cell = document.createElement("td");
      cell.colSpan = 3;
      cell.append(confirmWithdrawal(p, false));
      const confirmRow = document.createElement("tr");
      confirmRow.append(cell);
      table.append(confirmRow);
    }
  }
}

// A trainee: "I agree to my practice videos being stored", for themself.
function drawMyConsent() {
  const box = $("my-consent");
  const mine = peopleList.find((p) => p.id === me.person_id) || peopleList[0];
  if (!mine) { box.replaceChildren(); return; }
  const check = document.createElement("input");
  Object.assign(check, { type: "checkbox", id: "my-consent-check", checked: mine.consent_media,
                         disabled: consentPending !== null });
  check.onchange = () => {
    consentSaid = consentErr = null;
    if (check.checked) { setConsent(mine, true); return; }
    check.checked = true;  // withdrawing deletes their videos: asked first
    consentPending = mine.id;
    drawConsent();
  };
  const label = document.createElement("label");
  label.append(check, t("my_consent"));
  const said = text("span", consentSaidText());
  said.id = "my-consent-said";
  said.className = "hint";
  const err = text("span", "");
  err.id = "my-consent-err";
  err.className = "err";
  if (consentErr) showError(err, consentErr);
  box.replaceChildren(label, " ", said, " ", err);
  if (consentPending === mine.id) box.append(confirmWithdrawal(mine, true));
}

async function setConsent(person, agree) {
  const mine = signedIn;
  for (const el of document.querySelectorAll("#consent-box button, #my-consent button, #my-consent input")) {
    el.disabled = true;  // one click, one change
  }
  consentSaid = consentErr = null;
  let r;
  try {
    r = await api(`/api/people/${person.id}/consent`, { method: "POST", headers: { "Content-Type": "application/json" },
                                                          body: JSON.stringify({ consent_media: agree }) });
  } catch (e) {
    if (mine !== signedIn) return;
    consentPending = null;
    consentErr = e;
    drawConsent();
    return;
  }
  if (mine !== signedIn) return;
  consentPending = null;
  const self = me.role === "trainee";
  consentSaid = { key: `${self ? "my_" : ""}consent_${r.consent_media ? "recorded" : "withdrawn"}`,
                  name: person.name, n: r.files_removed || 0 };
  person.consent_media = r.consent_media;
  drawConsent();
  // The upload form offers whoever consents now; withdrawn, their videos and evidence are gone.
  try {
    await showPeople();
    if (!agree) {
      await showSessions();
      if (openSession !== null) await showSession(openSession);
    }
  } catch (e) { showError($("error"), e); }
}

// -- HR: logins, disabled when someone leaves (their records stay) ---------------------------

async function showLogins() {
  const mine = signedIn;
  const users = me !== null && me.role === "hr_admin" ? (await api("/api/users")).users : null;
  if (mine !== signedIn) return;
  loginList = users;
  drawLogins();
}

function drawLogins() {
  const hr = me !== null && me.role === "hr_admin" && loginList !== null;
  $("logins-box").classList.toggle("hidden", !hr);
  $("logins-said").textContent = hr && loginSaid ? t(loginSaid.key, { name: loginSaid.name }) : "";
  $("logins-err").textContent = "";
  if (!hr) { $("logins").replaceChildren(); return; }
  if (loginErr) showError($("logins-err"), loginErr);
  const table = $("logins");
  table.replaceChildren(row([t("l_login"), t("l_person"), t("l_role"), t("l_state"), ""], "th"));
  // Which trainee a login is (HR's people list has everyone): "xiaohong · 张小红".
  const personOf = (u) => {
    const name = u.person_name
      || (u.person_id != null && peopleList ? (peopleList.find((p) => p.id === u.person_id) || {}).name : null);
    return name ? personLabel({ id: u.person_id, name }) : "—";
  };
  for (const u of loginList) {
    const own = u.id === me.id;  // HR cannot lock themself out
    const state = text("td", t(u.disabled ? "l_disabled" : "l_active"));
    state.className = u.disabled ? "fail-t" : "pass";
    const act = document.createElement("td");
    const b = text("button", t(u.disabled ? "l_enable" : "l_disable"));
    b.className = "login-toggle";
    if (own) Object.assign(b, { disabled: true, title: t("l_own") });
    b.onclick = () => setLoginDisabled(u, !u.disabled);
    act.append(b);
    const tr = row([text("td", u.username + (own ? t("l_you") : "")), text("td", personOf(u)),
                    text("td", t(`role_${u.role}`)), state, act]);
    tr.id = `login-row-${u.id}`;
    if (u.disabled) tr.className = "off";
    table.append(tr);
  }
}

async function setLoginDisabled(user, off) {
  const mine = signedIn;
  for (const b of document.querySelectorAll("#logins button")) b.disabled = true;  // one click, one change
  loginSaid = loginErr = null;
  let r;
  try {
    r = await api(`/api/users/${encodeURIComponent(user.username)}/${off ? "disable" : "enable"}`, { method: "POST" });
  } catch (e) {
    if (mine !== signedIn) return;
    loginErr = e;
    drawLogins();
    return;
  }
  if (mine !== signedIn) return;
  Object.assign(user, r.user);
  loginSaid = { key: off ? "l_disabled_said" : "l_enabled_said", name: user.username };
  drawLogins();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll an analysis job once a second until it is done or failed; ``seen`` gets every state.
 * A server error or a dropped connection is tried again for a while: the page missing an
 * answer is not the analysis failing. */
async function finishedJob(jobId, seen = () => {}) {
  let misses = 0;
  for (;;) {
    let job;
    try {
      job = await api(`/api/jobs/${jobId}`);
      misses = 0;
    } catch (e) {
      if ((e.status === 0 || e.status >= 500) && ++misses < 10) { await sleep(1000 * misses); continue; }
      throw e;
    }
    seen(job);
    if (job.status === "done" || job.status === "failed") return job;
    await sleep(1000);
  }
}

async function upload(ev) {
  ev.preventDefault();
  const mine = signedIn;
  const form = new FormData(ev.target);
  const status = $("up-status"), bar = $("up-progress"), go = $("up-go");
  let uploaded = false, sessionId = null;
  go.disabled = true;
  $("error").textContent = "";
  status.className = "";
  setStatus("uploading");
  try {
    const r = await fetch("/api/uploads", { method: "POST", credentials: "same-origin",
                                            headers: { "X-CSRF-Token": csrf }, body: form });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(body, r.statusText || `HTTP ${r.status}`, r.status);
    sessionId = body.session_id;
    bar.classList.remove("hidden");
    // The new session is listed at once ("排队中", then "分析中 32%"), not only when it is done.
    jobsOf[sessionId] = { status: "queued", progress: 0 };
    try { await showSessions(); } catch { /* listed when it is done */ }
    const job = await finishedJob(body.job_id, (j) => {
      if (mine !== signedIn) throw new Error("signed out");  // the next user's page is not told
      followJob(sessionId, j);
      bar.value = j.progress || 0;
      if (j.status === "queued") setStatus("queued");
      else if (j.status === "running") setStatus("analysing", ` ${Math.round(100 * (j.progress || 0))}%`);
      else if (j.status === "done") setStatus("done");
      else if (j.error_text) setStatus("failed", "", j.error_text, j.error || "");
      else setStatus("failed", `: ${j.error || ""}`);
    });
    if (job.status === "failed") status.className = "err";
    bar.classList.add("hidden");
    // The next upload is most often of the same trainee, filmed the same way: the trainee,
    // people in view, posture and keep-evidence stay. The file and the consent are each
    // video's own, and the onboarding scenario is picked anew each time (it counts in the
    // cohort view).
    $("up-file").value = "";
    $("up-consent").checked = false;
    $("up-scenario").value = "";
    uploaded = true;
  } catch (e) {
    if (mine !== signedIn) return;
    status.className = "err";
    // Accepted, then its progress could not be read: that is not "analysis failed".
    if (sessionId !== null) setStatus("poll_failed", "", e.reasonText || both("server_error"), e.message);
    else failed(e);
  } finally {
    if (mine === signedIn) go.disabled = false;  // signed out: the next user's people decide
    bar.classList.add("hidden");
  }
  if (!uploaded || mine !== signedIn) return;
  // Loading what the analysis made is not the analysis: a failure here leaves the status
  // line as it is ("done") and is said where it happened (showSession says it in the detail).
  try {
    await showSessions();
    if (openCohort !== null) await showCohort(openCohort);  // an onboarding result changes it
  } catch (e) { showError($("error"), e); }
  await showSession(sessionId);
}

async function start() {
  const mine = signedIn;
  let who;
  try {
    who = await api("/api/auth/me");
  } catch { return; /* not signed in yet */ }
  if (mine !== signedIn) return;  // signed out meanwhile
  csrf = who.csrf_token;
  me = who.user;
  paint();
  $("login").classList.add("hidden");
  $("main").classList.remove("hidden");
  // Trainees see their own sessions; uploading for others, agreement and cohorts are for trainers and HR.
  $("agreement-link").classList.toggle("hidden", !canReview());
  // A trainee uploads their own practice only (the API refuses anyone else), and never as
  // the onboarding self-check (the fixed live scenario): no trainee or scenario to pick.
  for (const el of document.querySelectorAll(".staff-only")) el.classList.toggle("hidden", !canReview());
  const onboarding = document.querySelector('#up-scenario option[value="onboarding"]');
  onboarding.hidden = onboarding.disabled = !canReview();
  try {
    await showPeople();
    await showSessions();
    await showCohorts(me.role);
    await showLogins();
  } catch (e) { showError($("error"), e); }
  // The session open before (another language), else the one in the address (a reload, Back).
  const id = openSession ?? hashSession();
  if (id !== null) await showSession(id);
}

// Signed out: the sign-in form again, and nothing of the previous user left on the page
// (their sessions, the open session, cohort tables, people, the upload's status).
function clearPage() {
  signedIn += 1;  // answers still on their way are dropped
  me = csrf = openSession = openCohort = upState = peopleList = consentPending = consentSaid = consentErr = null;
  renameErr = loginList = loginSaid = loginErr = null;
  cohortList = [];
  listed = {};
  for (const k of Object.keys(jobsOf)) delete jobsOf[k];
  renaming = false;
  $("cohort-name").value = "";
  failures = {};
  for (const k of Object.keys(rescoring)) delete rescoring[k];
  rememberSession(null);
  for (const id of ["sessions", "detail", "cohort-people", "cohort-rules", "cohort-sel", "up-person",
                    "consent-people", "my-consent", "logins"]) $(id).replaceChildren();
  for (const id of ["cohort-note", "up-status", "up-detail-text", "consent-said", "consent-err", "error",
                    "cohort-rename-err", "logins-said", "logins-err"]) {
    $(id).textContent = "";
  }
  $("cohort-csv").removeAttribute("href");
  for (const id of ["cohorts-box", "consent-box", "my-consent", "logins-box", "cohort-rename", "cohort-rename-form",
                    "up-detail", "up-progress", "agreement-link", "main"]) {
    $(id).classList.add("hidden");
  }
  $("upload").reset();
  $("up-status").className = "";
  $("up-go").disabled = false;
  $("login").reset();
  $("login").classList.remove("hidden");
  paint();
}

async function signOut() {
  const out = $("signout");
  out.disabled = true;
  $("error").textContent = "";
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch (e) {
    // Already signed out (the session expired) is signed out; anything else, the server
    // still has the session: said, and the page stays as it is.
    if (e.status !== 401) { out.disabled = false; showError($("error"), e); return; }
  }
  out.disabled = false;
  clearPage();
}

$("upload").addEventListener("submit", upload);
$("signout").addEventListener("click", signOut);

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(ev.target));
  try {
    const r = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
    if (!r.ok) throw new ApiError(await r.json().catch(() => ({})), r.statusText || `HTTP ${r.status}`, r.status);
    $("error").textContent = "";
    await start();
  } catch (e) { showError($("error"), e); }
});
$("lang").onclick = async () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("pc.lang", lang);
  // An error still shown ("wrong password") is said again in the new language.
  const still = $("error").textContent !== "" && topError && topError.reasonText;
  $("error").textContent = still ? topError.reasonText[lang] : "";
  paint();
  await start();  // draws everything again, the open session included
};
paint();
start();
