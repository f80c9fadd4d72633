// Grooming self-check 仪容仪表 (issue 9): the crops the server judged, with plain-language,
// advisory explanations. Plain ES module, no build step, no dependencies.
//
// Privacy: the crops are cut client-side from the frame this page itself captured, using
// the normalised boxes in the feedback message (`msg.grooming`); no image comes back from
// the server. Nothing is uploaded or stored: the kept frames live in page memory only
// (at most RING frames, only while a grooming step is on) and "Save" writes a PNG to the
// person's own downloads folder, nothing else.
//
// Use from app.js (see the lead's note):
//   import { createGroomingPanel } from "./grooming.js";
//   const grooming = createGroomingPanel({ parent: document.querySelector(".side"), lang });
//   grooming.frameSent(id, grab);          // in captureTick, after grabCtx.drawImage(...)
//   grooming.onFeedback(msg, el.video);    // in onFeedback
// frameSent is optional: without it the crops are cut from the live video instead (a
// frame or two later than the one judged).

const RING = 4; // frames kept (page memory only), by frame id
const MIN_RENDER_MS = 400; // crops are redrawn at most this often
const CROP_W = 150;

const STRINGS = {
  zh: {
    title: "仪容自查（仅供参考）",
    colon: "：",
    privacy: "截图只在本机生成，不会上传或保存；点击“保存”才会下载到您的电脑。",
    save: "保存这次自查图片",
    hide: "收起",
    show: "展开",
    status: { pass: "看起来没问题", warn: "建议留意", fail: "建议整理", unknown: "无法评估" },
    checks: {
      facial_hair: "胡须（上唇、下巴）",
      hair_over_face: "头发是否遮挡眉眼",
      hair_colour: "发色",
      nails: "指甲",
      badge: "工牌（左胸）",
    },
    explain: {
      facial_hair: {
        pass: "上唇和下巴看起来与脸颊接近，没有明显胡茬。",
        warn: "上唇或下巴处有一些较暗的细小纹理，可能是胡茬；如果只是鼻子下方的阴影，请正对光线再看一次。",
        fail: "上唇或下巴处看起来有明显的胡须或胡茬。若岗位要求剃净胡须，建议上岗前整理。",
      },
      hair_over_face: {
        pass: "眉毛和眼睛露出来了。",
        warn: "眉眼附近好像有几缕头发，可以整理一下。眼镜框、眉毛有时也会被误判，请以画面为准。",
        fail: "额前头发好像遮住了眉毛或眼睛，建议整理露出眉眼。",
      },
      hair_colour: {
        pass: "发色在自然范围内。",
        warn: "额头上方的颜色不在常见的自然发色范围内。彩色背景、帽子或灯光也可能造成这种结果，请对照画面。",
        fail: "额头上方的颜色不在常见的自然发色范围内。",
      },
      nails: {
        pass: "指甲颜色与手指肤色接近。",
        warn: "指甲颜色与手指肤色差别较明显；透明、裸色或淡粉色更符合一般要求。",
        fail: "指甲颜色与手指肤色差别很大。",
      },
      badge: {
        pass: "左胸看到了端正的卡片状工牌。",
        warn: "左胸没有看到端正的工牌（或戴在了右侧、歪斜）。与衬衫颜色接近的工牌可能认不出来，请对照画面。",
        fail: "左胸没有看到工牌。",
      },
    },
    reasons: {
      face_too_small: "脸在画面中太小，请靠近一些。",
      face_not_frontal: "请正脸面对镜头。",
      too_dark: "光线太暗。",
      overexposed: "画面过亮，请避开强光。",
      colour_cast: "画面偏色（皮肤发绿、发蓝或发紫），无法判断发色，请在白光下再试。",
      low_contrast: "光线太平，分辨不出毛发。",
      hair_out_of_frame: "头顶不在画面内。",
      hair_not_visible: "额头上方看不到头发。",
      hands_not_visible: "没有看到手。",
      palm_facing_camera: "请把手背朝向镜头。",
      hand_too_small: "手太小，请靠近镜头。",
      chest_too_small: "上身太小，请靠近一些。",
      chest_out_of_frame: "胸前不在画面内，请后退一点。",
    },
    advisory: "这是自动判断，可能出错：请以您看到的画面为准。",
    no_verdict: "已截取画面，但本次练习的检查项目不包括这一项。",
  },
  en: {
    title: "Grooming self-check (advice only)",
    colon: ": ",
    privacy: "These pictures are made on this device and are not uploaded or stored; \"Save\" downloads them to your computer.",
    save: "Save these pictures",
    hide: "Hide",
    show: "Show",
    status: { pass: "Looks fine", warn: "Worth a look", fail: "Consider tidying", unknown: "Not assessable" },
    checks: {
      facial_hair: "Facial hair (upper lip, chin)",
      hair_over_face: "Hair over brows and eyes",
      hair_colour: "Hair colour",
      nails: "Nails",
      badge: "Badge (left chest)",
    },
    explain: {
      facial_hair: {
        pass: "Your upper lip and chin look like your cheeks: no visible stubble.",
        warn: "There is some fine dark texture on the upper lip or chin, possibly stubble. If it is just the shadow under your nose, face the light and look again.",
        fail: "The upper lip or chin seems to show a beard or stubble. If your role asks for a clean shave, consider one before your shift.",
      },
      hair_over_face: {
        pass: "Your brows and eyes are clear.",
        warn: "A few strands seem to fall near your brows or eyes. Glasses frames and eyebrows can fool the check: trust the picture.",
        fail: "Your fringe seems to cover your brows or eyes; consider tidying it back.",
      },
      hair_colour: {
        pass: "Your hair colour is in the natural range.",
        warn: "The colour above your forehead is outside the usual natural range. A coloured background, a hat or the light can also cause this: check the picture.",
        fail: "The colour above your forehead is outside the usual natural range.",
      },
      nails: {
        pass: "Your nails are close to your skin tone.",
        warn: "Your nails differ noticeably from your finger skin; clear, nude or pale pink shades fit most codes better.",
        fail: "Your nails differ strongly from your finger skin.",
      },
      badge: {
        pass: "A straight, card-shaped badge is on your left chest.",
        warn: "No straight badge was seen on your left chest (or it is on the right, or tilted). A badge close in colour to your shirt may not be recognised: check the picture.",
        fail: "No badge was seen on your left chest.",
      },
    },
    reasons: {
      face_too_small: "Your face is small in the picture: come closer.",
      face_not_frontal: "Face the camera.",
      too_dark: "Too dark.",
      overexposed: "Too bright: avoid strong direct light.",
      colour_cast: "The picture is tinted (skin looks green, blue or violet): hair colour can't be judged. Try under white light.",
      low_contrast: "The light is too flat to tell hair from skin.",
      hair_out_of_frame: "The top of your head is out of the picture.",
      hair_not_visible: "No hair visible above the forehead.",
      hands_not_visible: "No hands in view.",
      palm_facing_camera: "Turn the backs of your hands to the camera.",
      hand_too_small: "Your hands are small in the picture: bring them closer.",
      chest_too_small: "Your upper body is small in the picture: come closer.",
      chest_out_of_frame: "Your chest is out of the picture: step back a little.",
    },
    advisory: "This is an automatic check and can be wrong: trust what you see in the picture.",
    no_verdict: "Measured, but this practice's checks do not include this one.",
  },
};

// measure key -> rule id (the verdicts in msg.rules)
const RULE_OF = {
  facial_hair: "grooming.facial_hair",
  hair_over_face: "grooming.hair_tidy",
  hair_colour: "grooming.hair_colour",
  nails: "grooming.nails",
  badge: "grooming.badge",
};
const COLOURS = { pass: "#2fbf5b", warn: "#f2a900", fail: "#ff4d40", unknown: "#9aa4b1" };

/** The judged boxes of one check, as [{label, box:[x0,y0,x1,y1] normalised}]. Exported for tests. */
export function boxesOf(key, m) {
  if (!m || typeof m !== "object") return [];
  const out = [];
  const add = (label, b) => {
    if (Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === "number")) out.push({ label, box: b });
  };
  if (key === "nails") {
    for (const h of m.hands || []) for (const [f, b] of Object.entries(h.boxes || {})) add(`${h.side} ${f}`, b);
  } else if (key === "badge") {
    add("chest", m.chest_box);
    for (const c of m.cards || []) add("card", c.box);
  } else {
    for (const [name, b] of Object.entries(m.boxes || {})) add(name, b);
  }
  return out;
}

/** Union of boxes with a margin (fraction of its size), clipped to [0, 1]. */
export function unionBox(boxes, margin = 0.25) {
  if (!boxes.length) return null;
  let [x0, y0, x1, y1] = [1, 1, 0, 0];
  for (const { box } of boxes) {
    x0 = Math.min(x0, box[0]); y0 = Math.min(y0, box[1]);
    x1 = Math.max(x1, box[2]); y1 = Math.max(y1, box[3]);
  }
  const mx = (x1 - x0) * margin;
  const my = (y1 - y0) * margin;
  return [Math.max(0, x0 - mx), Math.max(0, y0 - my), Math.min(1, x1 + mx), Math.min(1, y1 + my)];
}

export function createGroomingPanel({ parent = document.body, lang = () => "zh", mirror = true } = {}) {
  const ring = new Map(); // frame id -> canvas copy (page memory only)
  let active = false;
  let lastRender = 0;
  let open = true;
  const L = () => STRINGS[lang() === "en" ? "en" : "zh"];

  const root = document.createElement("section");
  root.className = "grooming-panel";
  root.hidden = true;
  root.setAttribute("aria-live", "polite");
  root.style.cssText = "border:1px solid #3a4250;border-radius:8px;padding:8px;margin:8px 0;";
  const head = document.createElement("div");
  head.style.cssText = "display:flex;justify-content:space-between;align-items:center;gap:8px;";
  const title = document.createElement("strong");
  const toggle = document.createElement("button");
  toggle.type = "button";
  head.append(title, toggle);
  const note = document.createElement("p");
  note.style.cssText = "font-size:0.8em;opacity:0.8;margin:4px 0;";
  const list = document.createElement("div");
  list.style.cssText = "display:flex;flex-direction:column;gap:8px;";
  const save = document.createElement("button");
  save.type = "button";
  root.append(head, note, list, save);
  parent.append(root);

  toggle.addEventListener("click", () => {
    open = !open;
    list.hidden = !open;
    save.hidden = !open;
    labels();
  });
  save.addEventListener("click", () => saveLocal());

  function labels() {
    const s = L();
    title.textContent = s.title;
    note.textContent = `${s.privacy}${lang() === "en" ? " " : ""}${s.advisory}`;  // no space between Chinese sentences
    save.textContent = s.save;
    toggle.textContent = open ? s.hide : s.show;
  }
  labels();

  /** Keep a copy of the frame just sent (only while a grooming step is on). */
  function frameSent(id, canvas) {
    if (!active || !canvas) return;
    const c = document.createElement("canvas");
    c.width = canvas.width;
    c.height = canvas.height;
    c.getContext("2d").drawImage(canvas, 0, 0);
    ring.set(id, c);
    while (ring.size > RING) ring.delete(ring.keys().next().value);
  }

  function renderCrop(src, srcW, srcH, boxes, status) {
    const u = unionBox(boxes);
    const c = document.createElement("canvas");
    if (!u || !srcW || !srcH) return c;
    const sx = u[0] * srcW;
    const sy = u[1] * srcH;
    const sw = Math.max(1, (u[2] - u[0]) * srcW);
    const sh = Math.max(1, (u[3] - u[1]) * srcH);
    c.width = CROP_W;
    c.height = Math.max(1, Math.round((CROP_W * sh) / sw));
    const ctx = c.getContext("2d");
    ctx.save();
    if (mirror) { // as the person sees the preview
      ctx.translate(c.width, 0);
      ctx.scale(-1, 1);
    }
    ctx.drawImage(src, sx, sy, sw, sh, 0, 0, c.width, c.height);
    ctx.strokeStyle = COLOURS[status] || COLOURS.unknown;
    ctx.lineWidth = 2;
    const k = c.width / sw;
    for (const { box } of boxes) {
      ctx.strokeRect((box[0] * srcW - sx) * k, (box[1] * srcH - sy) * k,
        (box[2] - box[0]) * srcW * k, (box[3] - box[1]) * srcH * k);
    }
    ctx.restore();
    return c;
  }

  function row(key, status, text, crop) {
    const s = L();
    const r = document.createElement("div");
    r.className = `grooming-check ${status}`;
    r.style.cssText = "display:flex;gap:8px;align-items:flex-start;";
    if (crop && crop.width) {
      crop.style.cssText = `border:2px solid ${COLOURS[status] || COLOURS.unknown};border-radius:4px;flex:none;`;
      crop.setAttribute("role", "img");
      crop.setAttribute("aria-label", s.checks[key] || key);
      r.append(crop);
    }
    const t = document.createElement("div");
    const h = document.createElement("div");
    h.style.cssText = `font-weight:600;color:${COLOURS[status] || COLOURS.unknown};`;
    h.textContent = `${s.checks[key] || key}${s.colon}${s.status[status] || status}`;
    const p = document.createElement("div");
    p.style.cssText = "font-size:0.9em;";
    p.textContent = text;
    t.append(h);
    if (text) t.append(p);
    r.append(t);
    return r;
  }

  /** Show the judged crops of one feedback message (no-op without `msg.grooming`). */
  function onFeedback(msg, video) {
    const g = msg && msg.grooming;
    if (!g || typeof g !== "object") {
      // Shown only while a grooming step measures: outside it the panel is old news that
      // pushes the rule cards away.
      if (active) {
        active = false;
        ring.clear();
        root.hidden = true;
      }
      return;
    }
    active = true;
    root.hidden = false;
    const now = performance.now();
    if (!open || now - lastRender < MIN_RENDER_MS) {
      ring.delete(msg.id);
      return;
    }
    lastRender = now;
    const kept = ring.get(msg.id);
    const src = kept || video;
    const srcW = kept ? kept.width : (video && video.videoWidth) || 0;
    const srcH = kept ? kept.height : (video && video.videoHeight) || 0;
    for (const id of [...ring.keys()]) if (id <= msg.id) ring.delete(id);
    const s = L();
    const rows = [];
    for (const key of Object.keys(RULE_OF)) {
      const m = g[key];
      if (!m || typeof m !== "object") continue;
      const verdict = (msg.rules || {})[RULE_OF[key]];
      let status = verdict && verdict.status ? verdict.status : "unknown";
      if (!m.judged) status = "unknown";
      let text;
      if (status === "unknown") {
        const reason = (verdict && verdict.reason) || m.reason;
        // No reason to give: nothing under the heading (it said "无法评估" twice).
        text = s.reasons[reason] || (m.judged && !verdict ? s.no_verdict : "");
      } else {
        text = (s.explain[key] || {})[status] || "";
      }
      const boxes = m.judged ? boxesOf(key, m) : [];
      const crop = boxes.length && src ? renderCrop(src, srcW, srcH, boxes, status) : null;
      rows.push(row(key, status, text, crop));
    }
    list.replaceChildren(...rows);
  }

  /** Save the panel as one PNG to the person's downloads (the only way anything is kept). */
  function saveLocal() {
    const crops = [...list.querySelectorAll("canvas")];
    if (!crops.length) return;
    const w = Math.max(...crops.map((c) => c.width));
    const h = crops.reduce((a, c) => a + c.height + 4, 0);
    const out = document.createElement("canvas");
    out.width = w;
    out.height = h;
    const ctx = out.getContext("2d");
    let y = 0;
    for (const c of crops) {
      ctx.drawImage(c, 0, y);
      y += c.height + 4;
    }
    out.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `grooming-self-check-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.png`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, "image/png");
  }

  function destroy() {
    ring.clear();
    root.remove();
  }

  return { frameSent, onFeedback, setLang: labels, destroy, get active() { return active; } };
}

export { STRINGS as GROOMING_STRINGS };
