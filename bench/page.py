"""Page benchmark: the real live page in Debian's Chromium, fed by a fake camera.

Starts the server in this process (uvicorn in a thread) unless ``--url`` is given,
writes a 640×480, 30 fps .y4m from a sample clip (each 15 fps frame shown twice, played
forwards then backwards so there is no jump cut; Chromium loops the file), launches
``/usr/bin/chromium`` through Playwright with that file as the camera, opens ``-n`` pages
(tabs, one browser), selects the rule pack, clicks Start on each, runs ``-t`` seconds and
reads the page's OWN numbers (``window.__coachStats``, set by the debug panel every
tick: processed fps over the last 2 s, capture-to-feedback p50/p95 over the last 120
answers; plus the panel's server-ms and dropped cells).

    POSTURE_COACH_MODEL_DIR=../shared/models .venv/bin/python bench/page.py -t 20
    .venv/bin/python bench/page.py -n 4 -t 20 --json
    .venv/bin/python bench/page.py --url http://127.0.0.1:8000/ -n 2

Columns: ``fps`` = mean of the page's fps, sampled once a second after ``--warmup`` s;
``fps_min`` its minimum; ``sent_fps`` = frames the page sent per second over the run;
``p50``/``p95`` = the page's capture-to-feedback latency at the end (ms); ``server_ms``
= the panel's median server processing time; ``dropped`` = stale frames the server
dropped. ``loadavg`` is the 1-minute load average at the end (the browser, the server and
the pages all share this machine, so compare runs on the same machine only).
Needs ``apt-get install chromium`` and ``pip install playwright`` (never
``playwright install``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"

from fakecam import write_clip_y4m  # noqa: E402  (this folder: shared with the browser tests)


def start_server(
    model_dir: str | None, max_sessions: int, pool: int | None = None, hands: bool = True
) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from posture_coach.server import ServerSettings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    settings = ServerSettings(port=port, model_dir=Path(model_dir) if model_dir else None,
                              fetch_models=False, max_sessions=max_sessions, hands=hands,
                              **({"pool_size": pool} if pool else {}))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning",
                                           ws_max_size=settings.max_frame_bytes * 2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("uvicorn did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server, thread


def _chromium_cpu_s() -> float:
    """CPU seconds (user + system) used so far by every running Chromium process."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if b"chrom" not in (d / "cmdline").read_bytes()[:200]:
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def run(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    server = thread = None
    url = args.url
    if not url:
        url, server, thread = start_server(args.model_dir, max(4, args.n), args.pool, not args.no_hands)
    tmp = tempfile.TemporaryDirectory(prefix="pc-page-")
    clip = write_clip_y4m(Path(args.clip), Path(tmp.name) / "camera.y4m", args.first,
                          args.last, args.clip_seconds)
    flags = [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run",
        # N tabs at once: no tab may be throttled for being in the background.
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        *args.chromium_flag,
    ]
    errors: list[str] = []
    rows: list[dict] = []
    hand_share = None
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=flags, headless=True)
            try:
                pages = []
                for k in range(args.n):
                    page = browser.new_page(viewport={"width": 1280, "height": 860},
                                            locale="en-US")
                    page.on("pageerror", lambda e, k=k: errors.append(f"page {k}: {e}"))
                    page.goto(url)
                    pages.append(page)
                for page in pages:
                    page.wait_for_function(
                        "window.__coachStats && window.__coachStats.processed > 5",
                        timeout=60_000)
                    page.select_option("#posture", args.posture)
                for page in pages:
                    page.locator("#start").click()
                t0 = time.monotonic()
                sent0 = [page.evaluate("window.__coachStats.sent") for page in pages]
                done0 = [page.evaluate("window.__coachStats.done") for page in pages]
                cpu0 = (_self_cpu_s(), _chromium_cpu_s())
                samples: list[list[float]] = [[] for _ in pages]
                while (elapsed := time.monotonic() - t0) < args.t:
                    time.sleep(min(1.0, args.t - elapsed))
                    if time.monotonic() - t0 >= args.warmup:
                        for k, page in enumerate(pages):
                            samples[k].append(float(page.evaluate("window.__coachStats.fps")))
                dt = time.monotonic() - t0
                cpu1 = (_self_cpu_s(), _chromium_cpu_s())
                try:
                    import urllib.request

                    with urllib.request.urlopen(url.rstrip("/") + "/api/health", timeout=5) as r:
                        hand_share = json.loads(r.read()).get("hand_model_share")
                except (OSError, ValueError):
                    hand_share = None
                processed = sum(page.evaluate("window.__coachStats.done") - d0
                                for page, d0 in zip(pages, done0, strict=True))
                for k, page in enumerate(pages):
                    st = page.evaluate("window.__coachStats")
                    dom = page.evaluate(
                        "({server: document.getElementById('dbg-server').textContent,"
                        " dropped: document.getElementById('dbg-dropped').textContent,"
                        " conn: document.getElementById('conn').textContent})")
                    fps = samples[k] or [float(st["fps"])]
                    rows.append({
                        "page": k, "fps": round(statistics.fmean(fps), 1),
                        "fps_min": round(min(fps), 1),
                        "sent_fps": round((st["sent"] - sent0[k]) / dt, 1),
                        "p50_ms": round(st["p50"]) if st["p50"] is not None else None,
                        "p95_ms": round(st["p95"]) if st["p95"] is not None else None,
                        "server_ms": dom["server"], "dropped": dom["dropped"],
                        "conn": dom["conn"],
                    })
                if args.screenshot:
                    pages[0].evaluate("document.getElementById('debug').open = true")
                    pages[0].screenshot(path=args.screenshot)
            finally:
                browser.close()
    finally:
        tmp.cleanup()
        if server is not None:
            server.should_exit = True
            thread.join(timeout=10)
    fps_all = [r["fps"] for r in rows]
    per = max(processed, 1) if rows else 1
    cpu = {} if not rows else {
        # CPU time per processed frame: a figure that holds up better than fps on a busy
        # machine. "server" is this process (the server when in-process, plus the small
        # Playwright client); "browser" is every Chromium process.
        "server_cpu_ms_per_frame": round(1000 * (cpu1[0] - cpu0[0]) / per, 1),
        "browser_cpu_ms_per_frame": round(1000 * (cpu1[1] - cpu0[1]) / per, 1),
        "processed": processed,
        "hand_model_share": hand_share,  # frames on which the server ran the hand model
    }
    return {
        "n": args.n, "seconds": args.t, "clip": Path(args.clip).name, "url": args.url or "in-process",
        "pages": rows,
        "fps_mean": round(statistics.fmean(fps_all), 1) if fps_all else None,
        "fps_spread": round(max(fps_all) - min(fps_all), 1) if fps_all else None,
        "loadavg": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
        "errors": errors, **cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running server (else one starts in this process)")
    ap.add_argument("-n", type=int, default=1, help="pages (tabs) at once")
    ap.add_argument("-t", type=float, default=20.0, help="seconds to run after Start")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds before fps sampling")
    ap.add_argument("--clip", default=str(ROOT / "sample_videos/neutral_vs_arms_crossed.mp4"))
    ap.add_argument("--first", type=int, default=0, help="first frame of --clip")
    ap.add_argument("--last", type=int, default=10**9, help="last frame of --clip")
    ap.add_argument("--clip-seconds", type=float, default=6.0, help="length of the .y4m")
    ap.add_argument("--chromium-flag", action="append", default=[], help="an extra Chromium switch (repeatable)")
    ap.add_argument("--no-hands", action="store_true", help="server without the hand model (what it costs)")
    ap.add_argument("--posture", default="standing", choices=["auto", "standing", "sitting"])
    ap.add_argument("--model-dir", default=os.environ.get("POSTURE_COACH_MODEL_DIR"))
    ap.add_argument("--chromium", default=CHROMIUM)
    ap.add_argument("--screenshot", help="save page 0 at the end to this PNG")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ap.add_argument("--pool", type=int, default=None, help="landmarker sets in the server (default: the server's)")
    args = ap.parse_args()
    if not Path(args.chromium).is_file():
        raise SystemExit(f"no {args.chromium}: apt-get install -y chromium")
    res = run(args)
    if args.json:
        print(json.dumps(res))
        return
    print(f"page benchmark: n={res['n']} t={res['seconds']}s clip={res['clip']} "
          f"server={res['url']}")
    cols = ["page", "fps", "fps_min", "sent_fps", "p50_ms", "p95_ms", "server_ms", "dropped",
            "conn"]
    print("  ".join(f"{c:>9}" for c in cols))
    for r in res["pages"]:
        print("  ".join(f"{r[c]!s:>9}" for c in cols))
    print(f"fps mean {res['fps_mean']}  spread (max-min) {res['fps_spread']}  "
          f"loadavg {res['loadavg']} on {res['cpus']} CPUs")
    if "processed" in res:
        print(f"CPU per processed frame: server {res['server_cpu_ms_per_frame']} ms, "
              f"browser {res['browser_cpu_ms_per_frame']} ms ({res['processed']} frames); "
              f"hand model on {res['hand_model_share']} of the server's frames")
    if res["errors"]:
        print("page errors:", *res["errors"], sep="\n  ", file=sys.stderr)


if __name__ == "__main__":
    main()
