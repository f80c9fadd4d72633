"""Analysis jobs: crash and resume with exactly one result set, atomic writes, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from posture_coach.jobs import AnalysisOptions, JobRunner
from posture_coach.store import Database, repo
from posture_coach.store.models import EpisodeRow, RuleResult
from tests.store.helpers import fake_result, make_pan_video


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'pc.db'}", tmp_path / "data")
    db.upgrade()
    return db


def _queue(db: Database, video: Path | None, **kw: object) -> tuple[int, int]:
    with db.session() as s:
        p = repo.create_person(s, "trainee", consent_media=True)
        sess = repo.create_session(s, source="clip.avi", person_id=p.id, **kw)  # type: ignore[arg-type]
        if video is not None:
            dest = db.data_dir / "uploads" / f"session_{sess.id}" / video.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(video.read_bytes())
            sess.media_path = db.rel(dest)
        return sess.id, repo.create_job(s, sess.id).id


def _results(db: Database, sid: int) -> tuple[int, int]:
    with db.session() as s:
        rr = s.scalar(select(func.count()).select_from(RuleResult).where(RuleResult.session_id == sid))
        ep = s.scalar(select(func.count()).select_from(EpisodeRow).where(EpisodeRow.session_id == sid))
    return int(rr or 0), int(ep or 0)


def test_a_failing_write_leaves_no_half_result_set(tmp_path: Path) -> None:
    db = _db(tmp_path)
    sid, jid = _queue(db, None)
    claim = repo.claim_job(db, jid)
    assert claim is not None
    # Evidence outside the data dir makes the write fail after the rule rows were added.
    bad = fake_result({"snapshot": tmp_path / "elsewhere.jpg"})
    with pytest.raises(ValueError, match="subpath"):
        repo.save_results(db, jid, claim, bad)
    assert _results(db, sid) == (0, 0)
    assert repo.save_results(db, jid, claim, fake_result())
    assert _results(db, sid) == (3, 2)


def test_runner_retries_errors_and_fails_bad_input(tmp_path: Path) -> None:
    db = _db(tmp_path)
    (tmp_path / "v.avi").write_bytes(b"x")
    sid, jid = _queue(db, tmp_path / "v.avi")
    sid2, jid2 = _queue(db, tmp_path / "v.avi")
    calls: list[Path] = []

    def flaky(video: Path, opts: AnalysisOptions, progress: object) -> repo.AnalysisResult:
        calls.append(video)
        if len(calls) == 1:
            raise RuntimeError("worker hiccup")
        return fake_result()

    with JobRunner(db, workers=1, heartbeat_s=0.1, stale_after_s=1.0, analyse=flaky) as runner:
        runner.submit(jid)
        assert runner.wait(30)
    with db.session() as s:
        job = repo.get_job(s, jid)
        assert job.status == "done" and job.attempts == 2
    assert _results(db, sid) == (3, 2)

    from posture_coach.errors import SourceError

    def broken(video: Path, opts: AnalysisOptions, progress: object) -> repo.AnalysisResult:
        raise SourceError(f"{video}: not a readable video")

    with JobRunner(db, workers=1, heartbeat_s=0.1, stale_after_s=1.0, analyse=broken) as runner:
        runner.submit(jid2)
        assert runner.wait(30)
    with db.session() as s:
        job = repo.get_job(s, jid2)
        assert job.status == "failed" and job.attempts == 1 and "not a readable video" in (job.error or "")
        assert job.error_reason == "video_unreadable"  # shown to the uploader in zh or en
        assert repo.get_session(s, sid2).status == "failed"
    assert _results(db, sid2) == (0, 0)


CRASHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from posture_coach.jobs import AnalysisOptions, JobRunner, analyse_video
    from posture_coach.store import Database

    db = Database(sys.argv[1], Path(sys.argv[2]))

    def slow(video, opts, progress):
        def p(x):
            progress(x)
            time.sleep(0.2)  # a long role-play: plenty of time to be killed mid-way
        return analyse_video(video, opts, p)

    runner = JobRunner(db, workers=1, heartbeat_s=0.2, stale_after_s=1.0,
                       options=AnalysisOptions(model_dir=Path(sys.argv[3])), analyse=slow)
    runner.start()
    runner.wait()
""")


@pytest.mark.models
def test_job_killed_mid_analysis_resumes_with_exactly_one_result_set(
    tmp_path: Path, person_photo: Path, model_dir: Path,
) -> None:
    db = _db(tmp_path)
    video = make_pan_video(person_photo, tmp_path / "clip.avi", frames=45)
    sid, jid = _queue(db, video, keep_evidence=True)
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    proc = subprocess.Popen([sys.executable, str(script), db.url, str(db.data_dir), str(model_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with db.session() as s:
                job = repo.get_job(s, jid)
                if job.status == "running" and job.progress > 0:
                    break
            assert proc.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the job never started")
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no cleanup, no final write
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    with db.session() as s:
        job = repo.get_job(s, jid)
        assert job.status == "running" and job.attempts == 1
    assert _results(db, sid) == (0, 0)
    time.sleep(1.2)  # the heartbeat goes stale
    with JobRunner(db, workers=1, heartbeat_s=0.2, stale_after_s=1.0,
                   options=AnalysisOptions(model_dir=model_dir)) as runner:
        assert runner.start() == [jid]
        assert runner.wait(180)
    with db.session() as s:
        job = repo.get_job(s, jid)
        assert job.status == "done" and job.attempts == 2, job.error
        sess = repo.get_session(s, sid)
        assert sess.frames == 45
        n_rules = len(sess.rule_results)
        assert n_rules == len({r.rule_id for r in sess.rule_results})  # one row per rule: one set
        findings = [e for e in sess.episodes if e.kind == "finding"]
        assert findings and all(e.evidence for e in findings)
    # Evidence of the killed attempt was not kept beside the good one.
    attempt_dirs = [d for d in (db.data_dir / "evidence" / f"session_{sid}").iterdir() if d.is_dir()]
    assert len(attempt_dirs) == 1


def _batch_inputs(tmp_path: Path, person_photo: Path) -> list[Path]:
    (tmp_path / "in").mkdir()
    good = make_pan_video(person_photo, tmp_path / "in" / "good.avi")
    (tmp_path / "in" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 100)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# role-plays\n{good}\nin/broken.mp4\nin/missing.mp4\n")
    return [listing]


@pytest.mark.models
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_batch_reports_and_lists_failures(tmp_path: Path, person_photo: Path, model_dir: Path, engine: str) -> None:
    from posture_coach.jobs import collect_videos, run_batch

    if engine == "ray":
        pytest.importorskip("ray", reason="the ray engine needs `pip install ray` (the ray extra)")
    videos = collect_videos(_batch_inputs(tmp_path, person_photo))
    assert [v.name for v in videos] == ["good.avi", "broken.mp4", "missing.mp4"]
    out = tmp_path / "out"
    summary = run_batch(videos, out, engine=engine, workers=2, opts=AnalysisOptions(model_dir=model_dir))
    assert summary["ok"] == 1 and summary["videos"] == 3
    reasons = {Path(i["video"]).name: i["error"] for i in summary["failed"]}
    assert {i["reason"] for i in summary["failed"]} == {"video_unreadable", "file_not_found"}
    assert "not a readable video" in reasons["broken.mp4"]
    assert "not found" in reasons["missing.mp4"]
    assert (out / "good.json").is_file() and (out / "good.zh.html").is_file() and (out / "good.en.html").is_file()
    assert (out / "summary.json").is_file()
    # A trainer with many files opens one table: score, share not assessable, why a video failed.
    import csv

    rows = {r["name"]: r for r in csv.DictReader((out / "summary.csv").read_text(encoding="utf-8-sig").splitlines())}
    assert set(rows) == {"good", "broken", "missing"}
    assert rows["good"]["ok"] == "yes" and rows["good"]["score_pct"] != "" and rows["good"]["not_assessable_pct"] != ""
    assert " / " in rows["good"]["not_assessable_why"]  # the main reason, in Chinese and English
    assert (rows["broken"]["ok"], rows["broken"]["error_reason"]) == ("no", "video_unreadable")


@pytest.mark.models
def test_auto_stride_analyses_a_30_fps_video_at_15_fps_and_says_so(tmp_path: Path, person_photo: Path,
                                                                   model_dir: Path) -> None:
    from posture_coach import report as rep
    from posture_coach.jobs import analyse_video

    video = make_pan_video(person_photo, tmp_path / "v30.avi", frames=20, fps=30.0)
    result = analyse_video(video, AnalysisOptions(model_dir=model_dir, stride=0))
    assert result.stride == 2 and result.frames == 10
    assert rep.report_from_result(result, source=str(video), stride=result.stride)["session"]["stride"] == 2


@pytest.mark.models
def test_a_recording_cut_off_late_is_scored_up_to_the_cut_and_its_report_says_so(
        tmp_path: Path, person_photo: Path, model_dir: Path) -> None:
    from posture_coach import report as rep
    from posture_coach.errors import SourceError
    from posture_coach.jobs import analyse_video

    video = make_pan_video(person_photo, tmp_path / "whole.avi", frames=75, fps=15.0)  # 5 s
    data = video.read_bytes()
    late = tmp_path / "late.avi"
    late.write_bytes(data[: len(data) * 8 // 10])  # about 4 s decode: scored
    result = analyse_video(late, AnalysisOptions(model_dir=model_dir))
    [note] = [n for n in (result.summary or {})["notices"] if n["code"] == "video_truncated"]
    assert 3.0 <= note["read_s"] < 4.5 and note["total_s"] == 5.0
    html = rep.render_html(rep.report_from_result(result, source=str(late)), "zh")
    assert "视频在第" in html and "之后的部分没有评分" in html
    early = tmp_path / "early.avi"
    early.write_bytes(data[: len(data) * 4 // 10])  # about 2 s: too little to score
    with pytest.raises(SourceError, match="too little to score") as refused:
        analyse_video(early, AnalysisOptions(model_dir=model_dir))
    assert refused.value.reason == "video_truncated"


def test_role_play_side_must_be_left_right_or_none() -> None:
    assert AnalysisOptions(role_play="left").role_play == "left"
    assert AnalysisOptions().role_play is None
    with pytest.raises(ValueError, match="role_play"):
        AnalysisOptions(role_play="middle")


@pytest.mark.models
def test_a_scored_role_play_measures_the_trainee_against_the_other_person(model_dir: Path) -> None:
    # The trainer's path (score, batch, uploads): two people, the trainee on the left.
    from posture_coach import report as rep
    from posture_coach.jobs import analyse_video

    video = Path(__file__).resolve().parents[1] / "sample_videos" / "roleplay_side.mp4"
    result = analyse_video(video, AnalysisOptions(model_dir=model_dir, role_play="left", stride=2))
    shakes = [e.data for e in result.events if e.type == "handshake"]
    assert shakes and shakes[0]["peak"]["tp_distance_m"] is not None  # measured between the two
    gaze = next(r for r in result.rules if r.rule_id == "face.gaze")
    assert gaze.score is not None  # the head towards the other person, without face landmarks
    data = rep.report_from_result(result, source=str(video), stride=result.stride, role_play="left")
    assert data["session"]["role_play"] == "left"
    html = rep.render_html(data, "en")
    assert "the trainee is on the left of the image" in html


@pytest.mark.models
def test_role_play_by_profile_follows_the_calibrated_clothes_to_either_side(tmp_path: Path, model_dir: Path) -> None:
    # The trainee calibrated at the front (another room and light), then filmed from the
    # side with another person; in the mirrored film the trainee stands on the right.
    import cv2

    from posture_coach.calibration import Profile
    from posture_coach.cli_rules import calibrate_command  # posture-coach calibrate
    from posture_coach.pipeline import ObservationStream

    clips = Path(__file__).resolve().parents[1] / "sample_videos" / "roleplay_id"
    prof_path = tmp_path / "trainee.json"
    calibrate_command(source=str(clips / "calib_m_heavy_dark.mp4"), name="trainee", out=prof_path,
                      model_dir=model_dir, calibration=None)
    prof = Profile.load(prof_path)
    assert prof.clothing_colours
    mirrored = tmp_path / "mirrored.avi"
    cap = cv2.VideoCapture(str(clips / "rp_heavy_side.mp4"))
    out = cv2.VideoWriter(str(mirrored), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (640, 480))
    while (got := cap.read())[0]:
        out.write(cv2.flip(got[1], 1))
    out.release()
    for video, side in ((clips / "rp_heavy_side.mp4", "left"), (mirrored, "right")):
        with ObservationStream(video, model_dir=model_dir, face=False, hands=False, stride=3, role_play="profile",
                               trainee_colours=prof.clothing_colours) as stream:
            chosen = [o.measures["two_person"]["trainee"] for _, o in stream
                      if o.measures.get("two_person", {}).get("trainee_by") == "colours"]
        assert len(chosen) >= 30 and set(chosen) == {side}, (video.name, chosen)
    # Without clothing colours in the profile there is no guessing.
    from posture_coach.errors import ConfigError

    with pytest.raises(ConfigError, match="clothing colours"):
        ObservationStream(clips / "rp_heavy_side.mp4", model_dir=model_dir, role_play="profile")


@pytest.mark.models
def test_a_one_handed_handover_is_shown_while_the_card_is_held_out(tmp_path: Path, model_dir: Path) -> None:
    """The finding of an event rule is the event itself: its span, and an evidence snapshot
    from inside it (the rule judges the handover when it closes, after the arm came down)."""
    import json

    from posture_coach.jobs import analyse_video

    video = Path(__file__).resolve().parents[1] / "sample_videos" / "card_one_hand.mp4"
    result = analyse_video(video, AnalysisOptions(model_dir=model_dir, evidence_dir=tmp_path / "ev"))
    handovers = [e for e in result.events if e.type == "handover"]
    assert len(handovers) == 1
    ev = handovers[0].data
    (finding,) = [f for f in result.findings if f.rule_id == "handover.two_hands"]
    assert (finding.start_ms, finding.end_ms) == (ev["start_ms"], ev["end_ms"])
    assert finding.peak_ms is not None and ev["start_ms"] < finding.peak_ms < ev["end_ms"]
    assert finding.evidence["snapshot"].is_file()
    labels = [json.loads(line) for line in video.with_suffix(".labels.jsonl").read_text().splitlines()]
    held = next(x for x in labels if x.get("type") == "handover")
    assert held["start_ms"] <= finding.peak_ms <= held["end_ms"]  # the card is held out then


def test_videos_of_one_name_get_reports_of_their_own() -> None:
    from posture_coach.jobs import report_names

    videos = [Path("a/clip.mp4"), Path("b/clip.mp4"), Path("a/clip.mov"), Path("c/Clip.mp4"),
              Path("d/clip-2.mp4"), Path("e/other.mp4")]
    assert report_names(videos) == ["clip", "clip-2", "clip-3", "Clip-4", "clip-2-2", "other"]


@pytest.mark.models
def test_a_batch_never_overwrites_one_report_with_another(tmp_path: Path, person_photo: Path,
                                                          model_dir: Path) -> None:
    from posture_coach.jobs import run_batch

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_pan_video(person_photo, tmp_path / "a" / "clip.avi", frames=8)
    second = make_pan_video(person_photo, tmp_path / "b" / "clip.avi", frames=10)
    out = tmp_path / "out"
    summary = run_batch([first, second], out, workers=1, opts=AnalysisOptions(model_dir=model_dir, face=False),
                        langs=("en",))
    assert summary["ok"] == 2
    import json

    sources = {n: json.loads((out / f"{n}.json").read_text(encoding="utf-8"))["session"]["source"]
               for n in ("clip", "clip-2")}
    assert sources == {"clip": str(first), "clip-2": str(second)}
    assert [i["name"] for i in summary["items"]] == ["clip", "clip-2"]
    assert (out / "clip-2.en.html").is_file()


@pytest.mark.parametrize("outcome", ["nothing_found", "bad_input"])
def test_without_keeping_media_the_video_goes_when_the_analysis_ends(tmp_path: Path, outcome: str) -> None:
    """HR chose not to keep media after analysis. A run that found nothing never makes its
    evidence folder (it used to crash tidying it, and kept the video), and a video that
    cannot be analysed is finished with too: either way the video goes, the result stays."""
    from posture_coach.errors import SourceError

    db = _db(tmp_path)
    with db.session() as s:
        repo.set_settings(s, keep_media_after_analysis=False)
    (tmp_path / "v.avi").write_bytes(b"x")
    sid, jid = _queue(db, tmp_path / "v.avi", keep_evidence=True)

    def analyse(video: Path, opts: AnalysisOptions, progress: object) -> repo.AnalysisResult:
        if outcome == "bad_input":
            raise SourceError(f"{video}: not a readable video")
        return fake_result()  # no evidence frames: the evidence folder is never made

    with JobRunner(db, workers=1, heartbeat_s=0.1, stale_after_s=1.0, analyse=analyse) as runner:
        runner.submit(jid)
        assert runner.wait(30)
    with db.session() as s:
        assert repo.get_job(s, jid).status == ("done" if outcome == "nothing_found" else "failed")
        assert repo.get_session(s, sid).media_path is None
    assert not any(p.is_file() for p in (db.data_dir / "uploads").rglob("*"))
