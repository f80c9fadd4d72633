"""Nothing leaves the machine: a real analysis under strace makes no non-local connection.

mediapipe 1.2.x's native library uploads usage stats to https://play.googleapis.com/log
(every 60 s per landmarker and at close()); :mod:`posture_coach.landmarker` points that
upload at a closed loopback port (see docs/PRIVACY.md). This test runs pose + face + hands
on a real photo in a child process under ``strace -f`` and fails on any ``connect``,
``sendto``, ``sendmsg`` or ``sendmmsg`` to an IPv4/IPv6 address that is not loopback
(a DNS query to the resolver counts: it would announce the host being contacted).
AF_UNIX sockets are fine.

Needs ``strace`` (CI: ``apt-get install -y strace``) and permission to ptrace children.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

NET_CALLS = ("connect", "sendto", "sendmsg", "sendmmsg")
_CALL = re.compile(r"^\s*(?:\[pid\s+)?\d*\]?\s*(?:\d[\d:.]*\s+)?(\w+)\(")
_V4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
_V6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]+)"')

# Runs in the child: the product's own path from model folder to observations.
_ANALYSIS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from posture_coach.landmarker import LandmarkerConfig, Landmarkers
    from posture_coach.pipeline import landmarker_config
    from posture_coach.sources import read_image
    from posture_coach.types import Frame

    cfg = landmarker_config(Path(sys.argv[1]), fetch=False)
    assert isinstance(cfg, LandmarkerConfig)
    image = read_image(Path(sys.argv[2]))
    with Landmarkers(cfg) as lms:
        for i in range(int(sys.argv[3])):
            obs = lms.observe(Frame(image, i, i * 33))
    # close() above flushes MediaPipe's usage log: the moment it would upload.
    print("RAN", sorted(obs.ran), "pose", obs.pose is not None, "face", obs.face is not None)
    """
)


def external_destinations(trace: str) -> list[str]:
    """strace lines of network calls that address anything but loopback (AF_INET/AF_INET6)."""
    bad: list[str] = []
    for line in trace.splitlines():
        m = _CALL.match(line)
        if m is None or m.group(1) not in NET_CALLS:
            continue
        for raw in _V4.findall(line) + _V6.findall(line):
            addr = ipaddress.ip_address(raw)
            mapped = getattr(addr, "ipv4_mapped", None)
            if mapped is not None:
                addr = mapped
            # 0.0.0.0 / :: as a destination means "this host" on Linux.
            if not (addr.is_loopback or addr.is_unspecified):
                bad.append(line.strip()[:300])
    return bad


def _strace_usable() -> str | None:
    """Why strace cannot be used here, or None when it can."""
    if shutil.which("strace") is None:
        return "strace is not installed (CI: apt-get install -y strace)"
    probe = subprocess.run(
        ["strace", "-f", "-o", os.devnull, "true"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()[:200]}"
    return None


def test_the_parser_flags_what_unpatched_mediapipe_does() -> None:
    """Lines as strace printed them for mediapipe 1.2.2 before the block in landmarker.py."""
    v6 = "{sa_family=AF_INET6, sin6_port=htons(%d), inet_pton(AF_INET6, \"%s\", &sin6_addr)}"
    trace = "\n".join(
        [
            '6377  connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1',
            '6377  connect(8, {sa_family=AF_INET, sin_port=htons(53), '
            'sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
            '6377  sendmmsg(8, [{msg_hdr={msg_name=NULL, msg_iov=[{iov_base="\\4play\\ngoogleapis"}]}}], 2',
            '9245  connect(8, {sa_family=AF_INET, sin_port=htons(9), '
            'sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS',
            "9246  connect(9, " + v6 % (443, "2a00:1450:4001:80b::200e") + ", 28 <unfinished ...>",
            "9247  connect(9, " + v6 % (9, "::1") + ", 28) = -1 ECONNREFUSED",
            '9248  sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(443), '
            'sin_addr=inet_addr("142.250.1.1")}, 16) = 1',
            '9249  recvfrom(8, "..", 2048, 0, {sa_family=AF_INET, sin_port=htons(53), '
            'sin_addr=inet_addr("10.255.255.53")}, [16]) = 37',
        ]
    )
    bad = external_destinations(trace)
    assert len(bad) == 3, bad
    assert "10.255.255.53" in bad[0] and "2a00:1450" in bad[1] and "142.250.1.1" in bad[2]


@pytest.mark.models
def test_a_real_analysis_sends_nothing_off_the_machine(
    model_dir: Path, person_photo: Path, tmp_path: Path
) -> None:
    reason = _strace_usable()
    if reason is not None:
        pytest.skip(reason)
    trace_file = tmp_path / "net.trace"
    script = tmp_path / "analyse.py"
    script.write_text(_ANALYSIS)
    env = os.environ.copy()
    env["POSTURE_COACH_MODEL_DIR"] = str(model_dir)
    cmd = [
        "strace", "-f", "-e", "trace=" + ",".join(NET_CALLS), "-e", "signal=none",
        "-o", str(trace_file),
        sys.executable, str(script), str(model_dir), str(person_photo), "8",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RAN ['face', 'hands', 'pose'] pose True face True" in proc.stdout, proc.stdout
    trace = trace_file.read_text(errors="replace")
    bad = external_destinations(trace)
    assert not bad, "network traffic leaving the machine:\n" + "\n".join(bad)
