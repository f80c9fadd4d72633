"""`posture-coach analyze` end to end, as a user runs it: real models, real photos."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture_coach.sources import read_image

pytestmark = pytest.mark.models
CONTRACT_KEYS = {"source", "frame", "t_ms", "person", "states", "verdicts", "events"}


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "posture_coach.cli", *args],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=300,
    )


@pytest.fixture(scope="module")
def person_clip(tmp_path_factory: pytest.TempPathFactory, person_photo: Path) -> Path:
    """A short 640-wide video of a real person (a photo with a slow pan)."""
    rgb = read_image(person_photo)
    bgr = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (660, 500))  # even sizes for the codec
    h, w = bgr.shape[:2]
    path = tmp_path_factory.mktemp("clip") / "person.avi"
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (w - 20, h - 20))
    for i in range(12):
        wr.write(bgr[10 + (i % 3): h - 10 + (i % 3), 10 + (i % 10): w - 10 + (i % 10)].copy())
    wr.release()
    return path


def test_image_prints_one_contract_line(model_dir: Path, person_photo: Path) -> None:
    out = run_cli("analyze", str(person_photo), "--model-dir", str(model_dir))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert set(rec) >= CONTRACT_KEYS
    assert rec["person"] is True
    assert rec["source"].endswith(person_photo.name)
    for rule_id, v in rec["verdicts"].items():
        assert "." in rule_id
        assert v["status"] in {"pass", "warn", "fail", "unknown"}
        if v["status"] == "unknown":
            assert v["reason"], f"{rule_id} is unknown without a reason"


def test_recorded_landmarks_replay_to_identical_output(model_dir: Path, person_clip: Path, tmp_path: Path) -> None:
    rec = tmp_path / "rec.jsonl.gz"
    live = run_cli("analyze", str(person_clip), "--model-dir", str(model_dir), "--save-landmarks", str(rec),
                   "--annotate", str(tmp_path / "annotated.mp4"))
    assert live.returncode == 0, live.stderr
    assert rec.is_file() and (tmp_path / "annotated.mp4").stat().st_size > 1000
    replay = run_cli("analyze", str(rec))
    assert replay.returncode == 0, replay.stderr
    live_lines = live.stdout.splitlines()
    assert len(live_lines) == 12
    assert replay.stdout.splitlines() == live_lines
    summary = run_cli("analyze", str(rec), "--format", "json")
    assert summary.returncode == 0, summary.stderr
    data = json.loads(summary.stdout)
    assert data["frames"] == 12


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.mp4", None, "file not found"),
        ("empty.mp4", b"", "empty"),
        ("junk.mp4", b"junk" * 999, "not a readable video"),
        ("notes.txt", b"hi", "unsupported file type"),
        ("bad.jsonl", b"{}\n", "not a posture-coach landmark recording"),
    ],
)
def test_bad_input_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, model_dir: Path, name: str, content: bytes | None, message: str
) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_bytes(content)
    out_dir = tmp_path / "out"
    res = run_cli("analyze", str(src), "--model-dir", str(model_dir), "-o", str(out_dir / "result.jsonl"))
    assert res.returncode == 4, res.stderr
    err = res.stderr.strip().splitlines()
    # One technical line naming the file, then what it means in Chinese (analyze has no --lang).
    assert len(err) == 2 and message in err[0] and name in err[0], res.stderr
    assert re.search(r"[\u4e00-\u9fff]", err[1]), res.stderr
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_truncated_video_fails_without_output(tmp_path: Path, model_dir: Path, person_clip: Path) -> None:
    data = person_clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out_file = tmp_path / "out.jsonl"
    res = run_cli("analyze", str(cut), "--model-dir", str(model_dir), "-o", str(out_file))
    assert res.returncode == 4  # an unreadable input, as for score and every other bad video
    assert "cut.avi" in res.stderr and "视频在中途中断" in res.stderr
    assert not out_file.exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_a_video_cut_off_late_is_scored_on_the_part_that_decodes_and_says_so(
        tmp_path: Path, model_dir: Path, person_photo: Path) -> None:
    # An 8 s recording whose end is lost (a phone that ran out of space, a broken copy):
    # the seconds that decode are scored, and the summary says which part that was.
    rgb = cv2.resize(cv2.cvtColor(read_image(person_photo), cv2.COLOR_RGB2BGR), (320, 240))
    whole = tmp_path / "long.avi"
    wr = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))  # type: ignore[attr-defined]
    for i in range(80):
        wr.write(np.roll(rgb, i % 5, axis=1))
    wr.release()
    data = whole.read_bytes()
    cut = tmp_path / "cut_late.avi"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    out_file = tmp_path / "out.json"
    res = run_cli("analyze", str(cut), "--model-dir", str(model_dir), "-f", "json", "-o", str(out_file))
    assert res.returncode == 0, res.stderr
    summary = json.loads(out_file.read_text(encoding="utf-8"))
    [note] = [n for n in summary["notices"] if n["code"] == "video_truncated"]
    assert 4.0 <= note["read_s"] < 6.0 and note["total_s"] == 8.0
    assert f"前 {note['read_s']} 秒" in note["text"]["zh"] and "8.0 秒" in note["text"]["zh"]
    assert f"only the first {note['read_s']} s" in note["text"]["en"]
    assert summary["frames"] == pytest.approx(note["read_s"] * 10, abs=1)
    assert "stops part-way" in res.stderr  # said on the terminal too


def test_a_clip_filmed_turned_on_its_side_says_so_instead_of_scoring_a_lying_body(tmp_path: Path,
                                                                                  model_dir: Path) -> None:
    # A phone clip turned 90° with no rotation tag: the standing trainee read as sitting with
    # crossed legs (score 62), and nothing said why.
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "stance_men.mp4"
    cap = cv2.VideoCapture(str(clip))
    turned = tmp_path / "turned.avi"
    wr = None
    for _ in range(45):
        ok, bgr = cap.read()
        if not ok:
            break
        img = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
        if wr is None:
            wr = cv2.VideoWriter(str(turned), cv2.VideoWriter_fourcc(*"MJPG"), 15.0,  # type: ignore[attr-defined]
                                 (img.shape[1], img.shape[0]))
        wr.write(img)
    cap.release()
    assert wr is not None
    wr.release()
    r = run_cli("analyze", str(turned), "-f", "json", "--no-face", "--model-dir", str(model_dir))
    assert r.returncode == 0, r.stderr
    notes = {n["code"]: n for n in json.loads(r.stdout)["notices"]}
    assert "video_sideways" in notes and "转了 90°" in notes["video_sideways"]["text"]["zh"]
    assert "Rotate the video upright" in notes["video_sideways"]["text"]["en"]
    upright = run_cli("analyze", str(clip), "-f", "json", "--no-face", "--stride", "3", "--model-dir", str(model_dir))
    assert "video_sideways" not in {n["code"] for n in json.loads(upright.stdout)["notices"]}


def test_missing_models_name_the_file_and_the_fix(tmp_path: Path, person_photo: Path) -> None:
    empty = tmp_path / "models"
    empty.mkdir()
    res = run_cli("analyze", str(person_photo), "--model-dir", str(empty), "--no-fetch",
                  env={"POSTURE_COACH_CACHE_DIR": str(tmp_path / "cache")})
    assert res.returncode == 3, res.stderr
    assert "pose_landmarker_full.task" in res.stderr and "models fetch" in res.stderr


def test_a_photo_without_a_person_is_not_an_error(tmp_path: Path, model_dir: Path) -> None:
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), (cv2.UMat(240, 320, cv2.CV_8UC3, (180, 180, 180)).get()))
    res = run_cli("analyze", str(blank), "--model-dir", str(model_dir))
    assert res.returncode == 0, res.stderr
    rec = json.loads(res.stdout)
    assert rec["person"] is False
    assert all(v["status"] == "unknown" and v["reason"] == "no_person" for v in rec["verdicts"].values())


def test_calibration_errors_keep_the_table_name(tmp_path: Path, person_photo: Path, model_dir: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text("[standing.upright]\nfail_incline = 3.0\n")
    res = run_cli("analyze", str(person_photo), "--model-dir", str(model_dir), "--calibration", str(bad))
    assert res.returncode == 2, res.stderr
    assert "[standing.upright]" in res.stderr and "fail_incline" in res.stderr


def test_folded_arms_do_not_run_the_hand_model(model_dir: Path, tmp_path: Path) -> None:
    # The hand model is the dearest task after pose; no hand rule reads anything while the
    # arms are folded. A cue change once made the live page run it on most of these frames
    # (29 -> 23 fps): the recording says on which frames it ran.
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "arms_crossed_upper.mp4"
    rec = tmp_path / "rec.jsonl"
    out = run_cli("analyze", str(clip), "--model-dir", str(model_dir), "--save-landmarks", str(rec))
    assert out.returncode == 0, out.stderr
    frames = [json.loads(line) for line in rec.read_text(encoding="utf-8").splitlines()[1:]]
    with_hands = sum("hands" in f.get("ran", []) for f in frames)
    assert len(frames) > 60 and with_hands / len(frames) <= 0.2, (with_hands, len(frames))


def test_score_says_what_it_wrote_in_the_reports_language(tmp_path: Path, model_dir: Path) -> None:
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "bow_side.mp4"
    for lang, words in (("zh", "总分"), ("en", "overall")):
        out = tmp_path / f"r_{lang}.html"
        r = run_cli("score", str(clip), "--report", str(out), "--lang", lang, "--stride", "3",
                    "--model-dir", str(model_dir))
        assert r.returncode == 0, r.stderr
        assert words in r.stdout and str(out) in r.stdout, r.stdout
        assert out.is_file()


def test_batch_lists_each_failure_once_with_why(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    ok, buf = cv2.imencode(".jpg", np.zeros((40, 50, 3), np.uint8))
    assert ok
    (folder / "photo.mp4").write_bytes(buf.tobytes())  # a photo under a video's name
    r = run_cli("batch", str(folder), "--out", str(tmp_path / "out"), "--lang", "en")
    assert r.returncode == 1
    line = next(x for x in r.stdout.splitlines() if "failed:" in x)
    assert line.count("photo.mp4") == 1 and "not a video" in line and "This file is not a video" in line


def test_batch_refuses_a_damaged_profile_once_before_any_video(tmp_path: Path, person_clip: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.avi", "b.avi"):
        (folder / name).write_bytes(person_clip.read_bytes())
    gbk = tmp_path / "me.json"
    gbk.write_bytes('{"name": "张小红"}'.encode("gbk"))  # saved as ANSI on a Chinese Windows
    r = run_cli("batch", str(folder), "--out", str(tmp_path / "out"), "--role-play", "profile",
                "--profile", str(gbk), "--lang", "en")
    assert r.returncode == 2, r.stderr
    assert "not UTF-8 text" in r.stderr and "a.avi" not in r.stderr + r.stdout  # no video was tried
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_score_says_what_went_wrong_in_the_reports_language(tmp_path: Path, model_dir: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)  # an MP4 header and nothing to decode
    r = run_cli("score", str(broken), "--report", str(tmp_path / "r.html"), "--lang", "zh",
                "--model-dir", str(model_dir))
    assert r.returncode != 0
    assert "视频无法读取" in r.stderr and str(broken) in r.stderr, r.stderr  # the reason, then the detail
    assert not (tmp_path / "r.html").exists()


def test_a_role_play_analysed_as_one_person_gets_a_note(model_dir: Path) -> None:
    clip = Path(__file__).resolve().parent.parent / "sample_videos" / "roleplay_side.mp4"
    r = run_cli("analyze", str(clip), "--format", "json", "--stride", "3", "--no-face",
                env={"POSTURE_COACH_MODEL_DIR": str(model_dir)})
    assert r.returncode == 0, r.stderr
    notices = json.loads(r.stdout)["notices"]
    assert [n["code"] for n in notices] == ["two_people_in_view"]
    assert "--role-play" in notices[0]["text"]["zh"] and "--role-play" in notices[0]["text"]["en"]
    assert "note: Two people are in view" in " ".join(r.stderr.split())
    assert "画面里有两个人" in "".join(r.stderr.split())  # and in Chinese


def test_an_output_that_cannot_be_written_stops_before_the_analysis(tmp_path: Path, model_dir: Path,
                                                                    person_clip: Path) -> None:
    blocker = tmp_path / "report.txt"  # a file where the output's folder should be
    blocker.write_text("not a folder")
    for args in (("-o", str(blocker / "out.jsonl")), ("--save-landmarks", str(blocker / "lm.jsonl")),
                 ("--annotate", str(blocker / "a.webm"))):
        res = run_cli("analyze", str(person_clip), "--model-dir", str(model_dir), *args)
        assert res.returncode == 5, res.stderr
        assert "cannot write here" in res.stderr and "无法写入输出位置" in res.stderr
        assert "Traceback" not in res.stderr
        assert res.stdout == ""  # nothing was analysed
    assert blocker.read_text() == "not a folder"


def test_calibrating_from_a_damaged_video_saves_no_profile(tmp_path: Path, model_dir: Path,
                                                          person_clip: Path) -> None:
    data = person_clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "me.json"
    res = run_cli("calibrate", "--from", str(cut), "--out", str(out), "--model-dir", str(model_dir))
    assert res.returncode == 4, res.stderr
    assert "ends early" in res.stderr and not out.exists() and not (tmp_path / "me.json.partial").exists()


@pytest.mark.parametrize(("lang", "said"), [("zh", "总分 —（无法评分：画面中没有检测到人）"),
                                           ("en", "overall — (nothing could be judged: no person in view)")])
def test_scoring_a_video_with_nobody_in_it_says_why_there_is_no_score(tmp_path: Path, model_dir: Path,
                                                                       lang: str, said: str) -> None:
    clip = tmp_path / "empty_room.avi"
    wr = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (320, 240))
    for i in range(20):
        wr.write(np.full((240, 320, 3), 90 + i, np.uint8))
    wr.release()
    r = run_cli("score", str(clip), "--json", str(tmp_path / "r.json"), "--lang", lang,
                env={"POSTURE_COACH_MODEL_DIR": str(model_dir)})
    assert r.returncode == 0, r.stderr
    assert said in r.stdout


def test_a_role_play_with_nobody_else_in_it_gets_a_note(model_dir: Path) -> None:
    # A trainer scored a one-person handshake clip as a role-play: the handshake went
    # missing, the hand held out read as a one-handed card, and nothing said why.
    clips = Path(__file__).resolve().parent.parent / "sample_videos"
    for clip, said in (("handshake_side.mp4", ["one_person_in_role_play"]), ("roleplay_side.mp4", [])):
        r = run_cli("analyze", str(clips / clip), "--format", "json", "--stride", "3", "--no-face",
                    "--role-play", "left", env={"POSTURE_COACH_MODEL_DIR": str(model_dir)})
        assert r.returncode == 0, r.stderr
        notices = json.loads(r.stdout)["notices"]
        assert [n["code"] for n in notices] == said, (clip, notices)
        for n in notices:  # says what to do, in both languages
            assert "个人练习" in n["text"]["zh"] and "practice alone" in n["text"]["en"]
