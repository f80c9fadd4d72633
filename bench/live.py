"""Live-server benchmark: N synthetic browser clients on /ws/live.

Each client sends 640×480 JPEGs at up to 30 fps, paced like the page (at most 2 frames
unanswered), for T seconds, and the script prints processed fps per session, p50/p95
capture-to-feedback latency, and the server's RSS before and after 20
connect/disconnect cycles. The server runs in this process (uvicorn in a thread) unless
``--url`` points at one already running.

    POSTURE_COACH_MODEL_DIR=../shared/models .venv/bin/python bench/live.py -n 1 -t 20
    .venv/bin/python bench/live.py -n 4 -t 20 --acquire session
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import struct
import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import websockets

DEFAULT_PHOTO = "data/real/smoke_people/openpose/COCO_val2014_000000000294.jpg"


def make_frames(photo: Path | None, n: int = 30) -> list[bytes]:
    """JPEGs (quality 70, like the page) of a real photo with a slight sway."""
    if photo is not None and photo.is_file():
        img = cv2.imread(str(photo))
    else:
        img = np.full((480, 640, 3), 128, np.uint8)
        cv2.circle(img, (320, 160), 60, (180, 160, 150), -1)
    img = cv2.resize(img, (640, 480))
    out = []
    for i in range(n):
        dx = 6 * np.sin(2 * np.pi * i / n)
        moved = cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, 0]]), (640, 480),
                               borderMode=cv2.BORDER_REPLICATE)
        ok, buf = cv2.imencode(".jpg", moved, [cv2.IMWRITE_JPEG_QUALITY, 70])
        assert ok
        out.append(buf.tobytes())
    return out


async def client(url: str, frames: list[bytes], seconds: float, fps: float,
                 max_in_flight: int = 2) -> dict[str, float]:
    """One paced client; returns processed fps and latency percentiles (ms)."""
    lat: list[float] = []
    sent = acked = processed = 0
    t0 = time.perf_counter()
    period = 1.0 / fps
    async with websockets.connect(url, max_size=None) as ws:
        hello = json.loads(await ws.recv())
        if hello.get("type") == "busy":
            return {"busy": 1.0}
        await ws.send(json.dumps({"type": "start"}))

        async def receiver() -> None:
            nonlocal acked, processed
            async for raw in ws:
                msg = json.loads(raw)
                fid = msg.get("id")
                if isinstance(fid, int):
                    acked = max(acked, fid)
                if msg.get("type") == "feedback":
                    processed += 1
                    lat.append((time.perf_counter() - t0) * 1000 - msg["t_capture"])

        rx = asyncio.create_task(receiver())
        next_t = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            now = time.perf_counter()
            if now < next_t:
                await asyncio.sleep(next_t - now)
            next_t += period
            if sent - acked >= max_in_flight:
                continue  # the camera frame is skipped, like the page does
            sent += 1
            t_cap = (time.perf_counter() - t0) * 1000
            await ws.send(b"PCF1" + struct.pack("<Id", sent, t_cap) + frames[sent % len(frames)])
        await asyncio.sleep(0.3)
        rx.cancel()
    lat.sort()
    return {
        "fps": processed / seconds,
        "p50": statistics.median(lat) if lat else float("nan"),
        "p95": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
        "sent": float(sent),
        "processed": float(processed),
    }


async def churn(url: str, frame: bytes, cycles: int) -> None:
    """Connect, send a few frames, vanish without reading: the page closing mid-stream."""
    for i in range(cycles):
        async with websockets.connect(url, max_size=None) as ws:
            await ws.recv()
            for k in range(3):
                await ws.send(b"PCF1" + struct.pack("<Id", k + 1, 0.0) + frame)
            if i % 2:
                await ws.recv()


def start_server(args: argparse.Namespace) -> tuple[str, object]:
    import uvicorn

    from posture_coach.server import ServerSettings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ServerSettings(port=port, pool_size=args.pool, acquire=args.acquire,
                              max_sessions=max(4, args.n), face=not args.no_face,
                              hands=not args.no_hands)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", ws_per_message_deflate=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1, help="concurrent sessions")
    ap.add_argument("-t", type=float, default=15.0, help="seconds per run")
    ap.add_argument("--fps", type=float, default=30.0, help="camera rate per client")
    ap.add_argument("--pool", type=int, default=2, help="landmarker pool size")
    ap.add_argument("--acquire", choices=("frame", "session"), default="frame")
    ap.add_argument("--no-face", action="store_true")
    ap.add_argument("--no-hands", action="store_true")
    ap.add_argument("--cycles", type=int, default=20, help="connect/disconnect cycles")
    ap.add_argument("--url", help="an already running server, e.g. http://127.0.0.1:8000")
    ap.add_argument("--photo", type=Path, help="photo to stream (default: a shared COCO photo)")
    args = ap.parse_args()

    photo = args.photo
    if photo is None:
        shared = Path(__file__).resolve().parents[1].parent / "shared"
        photo = shared / DEFAULT_PHOTO
        os.environ.setdefault("POSTURE_COACH_MODEL_DIR", str(shared / "models"))
    frames = make_frames(photo)
    base = args.url or start_server(args)[0]
    ws_url = base.replace("http", "ws", 1) + "/ws/live"

    async def run() -> list[dict[str, float]]:
        return list(await asyncio.gather(*(client(ws_url, frames, args.t, args.fps)
                                           for _ in range(args.n))))

    asyncio.run(client(ws_url, frames, 2.0, args.fps))  # warm-up: landmarkers, tracking
    load0 = os.getloadavg()
    results = asyncio.run(run())
    load1 = os.getloadavg()
    health = httpx.get(base + "/api/health").json()
    print(f"sessions={args.n} seconds={args.t} acquire={args.acquire} pool={args.pool} "
          f"tasks=pose{'' if args.no_face else '+face'}{'' if args.no_hands else '+hands'} "
          f"cpus={os.cpu_count()} loadavg(1m) before={load0[0]:.2f} after={load1[0]:.2f}")
    print(f"{'session':>7} {'fps':>6} {'p50 ms':>7} {'p95 ms':>7} {'sent':>6} {'done':>6}")
    for i, r in enumerate(results, 1):
        if "busy" in r:
            print(f"{i:>7} busy")
            continue
        print(f"{i:>7} {r['fps']:6.1f} {r['p50']:7.0f} {r['p95']:7.0f} "
              f"{r['sent']:6.0f} {r['processed']:6.0f}")
    print(f"pool: {health['pool']}")

    rss0 = httpx.get(base + "/api/health").json()["rss_mb"]
    asyncio.run(churn(ws_url, frames[0], args.cycles))
    time.sleep(1.0)
    after = httpx.get(base + "/api/health").json()
    print(f"RSS before {args.cycles} connect/disconnect cycles: {rss0:.0f} MB, after: "
          f"{after['rss_mb']:.0f} MB; sessions left: {after['sessions']}, "
          f"pool in use: {after['pool']['in_use']}, created: {after['pool']['created']}")


if __name__ == "__main__":
    main()
