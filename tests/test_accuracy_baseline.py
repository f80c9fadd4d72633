"""The committed accuracy baseline of sample_videos/: a regression fails the build.

Runs the real models on every sample clip through the accuracy benchmark and compares
per-state F1 and measurement errors with ``bench/baseline_sample_videos.json``. After an
improvement, refresh the baseline with
``python bench/accuracy.py sample_videos --update-baseline bench/baseline_sample_videos.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "bench" / "baseline_sample_videos.json"

pytestmark = pytest.mark.models


def test_sample_videos_do_not_regress(model_dir: Path, tmp_path: Path) -> None:
    if not any((REPO / "sample_videos").glob("*.labels.jsonl")):
        pytest.skip("no sample clips")
    assert BASELINE.is_file(), "commit bench/baseline_sample_videos.json (see this module's docstring)"
    res = subprocess.run(
        [sys.executable, str(REPO / "bench" / "accuracy.py"), str(REPO / "sample_videos"),
         "--model-dir", str(model_dir), "--cache-dir", str(tmp_path / "cache"), "--json",
         "--check-baseline", str(BASELINE)],
        capture_output=True, text=True, timeout=1200, cwd=REPO,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)["reports"][0]
    assert report["extra"]["clips"] >= 10
