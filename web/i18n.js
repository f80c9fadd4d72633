// Every user-facing string of the page, in Chinese (zh-CN) and English.
// Elements carry data-i18n="key" (text) or data-i18n-attr="attr:key" (attributes).

export const STRINGS = {
  zh: {
    app_title: "服务礼仪练习",
    app_subtitle: "摄像头画面只在本机处理，不会上传或保存。",
    lang_label: "语言",
    speak_label: "语音提示",
    posture_label: "规则包",
    posture_auto: "自动判断",
    posture_standing: "站姿",
    posture_sitting: "坐姿",
    start: "开始练习",
    stop: "结束并查看总结",
    calibrate: "个人校准",
    drill_label: "练习项目",
    drill_none: "自由练习",
    drill_start: "开始练习项目",
    drill_stop: "停止练习项目",
    timer_label: "用时",
    score_label: "实时得分",
    rules_heading: "规则状态",
    status_pass: "通过",
    status_warn: "注意",
    status_fail: "未通过",
    status_unknown: "无法判断",
    status_idle: "等待画面",
    legend: "绿色 = 通过，琥珀色 = 注意，红色 = 未通过，灰色 = 无法判断（附原因）",
    not_assessable_yet: "暂不可评估（该规则尚未实现）",
    camera_starting: "正在打开摄像头…",
    camera_denied_title: "无法使用摄像头：权限被拒绝",
    camera_denied_help: "请点击地址栏左侧的摄像头图标，选择“允许”，然后重新加载页面。如果浏览器曾经记住“拒绝”，请在浏览器设置 → 隐私与安全 → 网站设置 → 摄像头中移除本站的设置。",
    camera_missing_title: "没有找到摄像头",
    camera_missing_help: "请连接摄像头（或在系统设置中启用它），然后点击“重试”。",
    camera_busy_title: "摄像头正被其他程序占用",
    camera_busy_help: "请关闭正在使用摄像头的程序（视频会议、其他浏览器标签页），然后点击“重试”。",
    camera_insecure_title: "当前页面无法访问摄像头",
    camera_insecure_help: "浏览器只允许 https 或本机地址使用摄像头。请通过 http://127.0.0.1:端口/ 打开本页面。",
    camera_error_title: "摄像头出错",
    retry: "重试",
    conn_connecting: "正在连接教练服务…",
    conn_open: "已连接",
    conn_closed: "连接已断开，正在重试…",
    conn_busy: "教练服务正忙（同时练习的人数已满），稍后自动重试。",
    engine_missing: "规则引擎暂不可用：只显示骨架，所有规则显示为“无法判断”。",
    models_missing: "姿态模型无法加载，请运行 posture-coach models fetch。",
    frame_no_person: "请走进画面，面向摄像头。",
    frame_hips: "请后退，直到画面中能看到您的髋部。",
    frame_hips_sitting: "坐姿练习：请让肩部和上身完整出现在画面中。",
    frame_face: "请面向摄像头，让面部清晰可见。",
    frame_dark: "画面太暗：请面向光源或打开灯。",
    frame_ok: "取景良好",
    calib_title: "个人校准",
    calib_intro: "校准会记录您的自然姿态作为个人基准，让判断更公平。共三步，每步约 2 秒。",
    calib_step_neutral: "第 1 步：自然站好（或坐好），身体放松挺直，双手自然下垂，看向摄像头。",
    calib_step_face: "第 2 步：保持面部放松、不笑，正视摄像头。",
    calib_step_smile: "第 3 步：露出自然的微笑。",
    calib_ready: "准备好了",
    calib_collecting: "正在记录…请保持不动",
    calib_done: "校准完成，已使用您的个人基准。",
    calib_failed: "校准失败：没有检测到足够的画面，请确认您在画面中后重试。",
    calib_failed_moving: "校准失败：记录时您在移动。请以端正、自然的姿势保持静止约 2 秒后重试。",
    close: "关闭",
    cancel: "取消",
    summary_title: "练习总结",
    summary_overall: "总得分",
    summary_duration: "练习时长",
    summary_rules: "各规则结果",
    summary_worst: "需要注意的瞬间",
    summary_worst_none: "没有记录到持续的问题，做得好！",
    summary_next: "下一步练习建议",
    summary_next_none: "继续保持，可以尝试入职自检场景。",
    summary_nothing_judged: "本次没有任何规则能够判断。主要原因：{reason}。请调整取景，或在“规则包”中选择站姿/坐姿。",
    summary_worst_unjudged: "没有可判断的画面，因此没有截图。",
    summary_next_framing: "先调整取景：后退到能看到髋部和膝盖，或选择站姿/坐姿规则包，然后再练习一次。",
    summary_engine_missing: "规则引擎不可用，本次没有评分。",
    summary_drill: "练习项目结果",
    snapshot_note: "截图只保存在本页面中，关闭页面即删除。",
    outcome_pass: "通过",
    outcome_warn: "注意",
    outcome_fail: "未通过",
    outcome_not_assessable: "无法判断",
    outcome_not_yet_assessable: "暂不可评估",
    outcome_pending: "未进行",
    missing_events: "未检测到动作：",
    step: "步骤",
    seconds_left: "剩余 {s} 秒",
    practise_drill: "推荐练习：",
    debug_heading: "调试信息",
    debug_fps: "处理帧率",
    debug_latency: "采集到反馈延迟 (p50 / p95)",
    debug_server: "服务器处理",
    debug_dropped: "服务器丢弃的旧帧",
    debug_inflight: "在途帧",
    debug_sent: "已发送帧",
    live_cue_region: "实时提示",
    video_label: "摄像头预览（镜像显示）与骨架",
    value: "数值",
    limit: "阈值",
  },
  en: {
    app_title: "Service etiquette practice",
    app_subtitle: "Camera frames are processed on this machine only; nothing is uploaded or stored.",
    lang_label: "Language",
    speak_label: "Spoken cues",
    posture_label: "Rule pack",
    posture_auto: "Detect automatically",
    posture_standing: "Standing",
    posture_sitting: "Sitting",
    start: "Start practice",
    stop: "Stop and see summary",
    calibrate: "Personal calibration",
    drill_label: "Drill",
    drill_none: "Free practice",
    drill_start: "Start drill",
    drill_stop: "Stop drill",
    timer_label: "Time",
    score_label: "Live score",
    rules_heading: "Rules",
    status_pass: "Pass",
    status_warn: "Attention",
    status_fail: "Fail",
    status_unknown: "Can't judge",
    status_idle: "Waiting",
    legend: "Green = pass, amber = attention, red = fail, grey = cannot judge (with the reason)",
    not_assessable_yet: "Not yet assessable (rule not implemented yet)",
    camera_starting: "Opening the camera…",
    camera_denied_title: "Camera permission was refused",
    camera_denied_help: "Click the camera icon at the left of the address bar, choose Allow, then reload the page. If the browser remembered \"Block\", remove this site under Settings → Privacy and security → Site settings → Camera.",
    camera_missing_title: "No camera found",
    camera_missing_help: "Connect a camera (or enable it in your system settings), then press Retry.",
    camera_busy_title: "The camera is in use by another program",
    camera_busy_help: "Close the program using the camera (video calls, other browser tabs), then press Retry.",
    camera_insecure_title: "This page cannot use the camera",
    camera_insecure_help: "Browsers allow the camera on https or local addresses only. Open this page as http://127.0.0.1:PORT/.",
    camera_error_title: "Camera error",
    retry: "Retry",
    conn_connecting: "Connecting to the coach…",
    conn_open: "Connected",
    conn_closed: "Connection lost, retrying…",
    conn_busy: "The coach is busy (all practice slots are taken); retrying shortly.",
    engine_missing: "The rules engine is unavailable: only the skeleton is shown and every rule reads \"can't judge\".",
    models_missing: "The pose models could not be loaded; run posture-coach models fetch.",
    frame_no_person: "Step into view and face the camera.",
    frame_hips: "Step back until your hips are visible.",
    frame_hips_sitting: "Sitting practice: keep your shoulders and upper body fully in view.",
    frame_face: "Face the camera so your face is clearly visible.",
    frame_dark: "The picture is too dark: face the light or turn a light on.",
    frame_ok: "Framing looks good",
    calib_title: "Personal calibration",
    calib_intro: "Calibration records your natural posture as a personal baseline so the coach judges you fairly. Three steps, about 2 s each.",
    calib_step_neutral: "Step 1: stand (or sit) naturally, relaxed and upright, arms hanging, looking at the camera.",
    calib_step_face: "Step 2: keep a relaxed, neutral face (no smile) and look straight at the camera.",
    calib_step_smile: "Step 3: give a natural smile.",
    calib_ready: "I'm ready",
    calib_collecting: "Recording… hold still",
    calib_done: "Calibration done: your personal baseline is in use.",
    calib_failed: "Calibration failed: not enough frames with you in view. Check the framing and try again.",
    calib_failed_moving: "Calibration failed: you were moving while it recorded. Hold still in a neutral, upright pose for about 2 s and try again.",
    close: "Close",
    cancel: "Cancel",
    summary_title: "Session summary",
    summary_overall: "Overall score",
    summary_duration: "Duration",
    summary_rules: "Results per rule",
    summary_worst: "Moments to look at",
    summary_worst_none: "No lasting issues recorded. Well done!",
    summary_next: "What to practise next",
    summary_next_none: "Keep it up; try the onboarding self-check next.",
    summary_nothing_judged: "No rule could be judged in this session. Main reason: {reason}. Adjust the framing or pick standing/sitting under Rule pack.",
    summary_worst_unjudged: "Nothing could be judged, so there are no snapshots.",
    summary_next_framing: "Fix the framing first: step back until your hips and knees are visible, or pick the standing/sitting rule pack, then practise again.",
    summary_engine_missing: "The rules engine is unavailable, so this session has no score.",
    summary_drill: "Drill results",
    snapshot_note: "Snapshots live only in this page and are gone when you close it.",
    outcome_pass: "Pass",
    outcome_warn: "Attention",
    outcome_fail: "Fail",
    outcome_not_assessable: "Can't judge",
    outcome_not_yet_assessable: "Not yet assessable",
    outcome_pending: "Not reached",
    missing_events: "Not detected: ",
    step: "Step",
    seconds_left: "{s} s left",
    practise_drill: "Suggested drill: ",
    debug_heading: "Debug",
    debug_fps: "Processed fps",
    debug_latency: "Capture-to-feedback latency (p50 / p95)",
    debug_server: "Server processing",
    debug_dropped: "Stale frames dropped by the server",
    debug_inflight: "Frames in flight",
    debug_sent: "Frames sent",
    live_cue_region: "Live cues",
    video_label: "Camera preview (mirrored) with skeleton",
    value: "value",
    limit: "limit",
  },
};

let current = "zh";

/** The initial language: saved choice, else the browser's, else Chinese. */
export function initialLang() {
  const saved = localStorage.getItem("pc.lang");
  if (saved === "zh" || saved === "en") return saved;
  return (navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function setLang(lang) {
  current = lang === "en" ? "en" : "zh";
  localStorage.setItem("pc.lang", current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.querySelectorAll("[data-i18n-attr]").forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr, t(key));
    }
  });
  document.title = t("app_title");
}

export function lang() {
  return current;
}

/** Translate a key, filling {name} placeholders. Missing keys show the key itself. */
export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

/** Pick the zh/en field of a server object: obj.title_zh / obj.title_en. */
export function pick(obj, field) {
  if (!obj) return "";
  return obj[`${field}_${current}`] || obj[`${field}_en`] || obj[`${field}_zh`] || "";
}
