"""PDF reports: the HTML report printed by headless Chromium; a clear message without it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from posture_coach import cli_store, pdf
from posture_coach import report as rep
from posture_coach.store import Database, repo
from tests.store.helpers import fake_result

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.is_file(), reason="no /usr/bin/chromium: apt-get install -y chromium")
runner = CliRunner()
app = typer.Typer()
cli_store.register(app)  # the trainer/HR commands, as `posture-coach` mounts them


def pages(data: bytes) -> int:
    """Page objects in a PDF (Chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def has_noto_cjk() -> bool:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    return "Noto Sans CJK" in out


@pytest.fixture
def report(tmp_path: Path) -> dict[str, object]:
    snap = tmp_path / "snap.jpg"
    img = np.full((240, 320, 3), 200, np.uint8)
    cv2.circle(img, (160, 110), 50, (40, 90, 200), -1)
    cv2.imwrite(str(snap), img)
    return rep.report_from_result(fake_result({"snapshot": snap}), source="/videos/role.mp4", person="王芳")


def _fake_chromium(tmp_path: Path, body: str) -> Path:
    exe = tmp_path / "fake-chromium"
    exe.write_text(f"#!/bin/sh\n{body}\n")
    exe.chmod(0o755)
    return exe


def test_missing_chromium_is_one_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                report: dict[str, object]) -> None:
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(tmp_path / "no-such-chromium"))
    with pytest.raises(pdf.ChromiumNotFound) as exc:
        pdf.find_chromium()
    msg = str(exc.value)
    assert "apt-get install chromium" in msg and pdf.ENV_CHROMIUM in msg and "no-such-chromium" in msg
    assert "\n" not in msg and "安装" in msg
    out = tmp_path / "r.pdf"
    with pytest.raises(pdf.ChromiumNotFound):
        pdf.write_pdf(report, out)
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    assert not pdf.chromium_available()


def test_no_chromium_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pdf.ENV_CHROMIUM, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pdf.ChromiumNotFound, match="chromium, chromium-browser, google-chrome"):
        pdf.find_chromium()


def test_chromium_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = _fake_chromium(tmp_path, "exit 0")
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(exe))
    assert pdf.find_chromium() == str(exe)


@pytest.mark.parametrize(
    ("body", "words"),
    [("exit 0", "no PDF"),  # ran, wrote nothing
     ('echo "[1:2:ERROR:dbus/bus.cc:405] Failed to connect to the bus" >&2; '
      'echo "boom: cannot open display" >&2; exit 1', "boom: cannot open display"),
     ("exec sleep 30", "did not finish within 1 s")],
)
def test_failures_leave_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict[str, object],
                                body: str, words: str) -> None:
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(_fake_chromium(tmp_path, body)))
    out = tmp_path / "out" / "r.pdf"
    out.parent.mkdir()
    out.write_bytes(b"%PDF-old")  # an earlier PDF stays whole
    with pytest.raises(pdf.PdfError) as exc:
        pdf.write_pdf(report, out, timeout_s=1)
    assert words in str(exc.value) and "bus" not in str(exc.value)
    assert out.read_bytes() == b"%PDF-old" and sorted(p.name for p in out.parent.iterdir()) == ["r.pdf"]


def test_cli_without_chromium_says_so_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "1", "-o", str(tmp_path / "r.pdf"), "--db", f"sqlite:///{tmp_path}/x.db"],
                           env={pdf.ENV_CHROMIUM: str(tmp_path / "no-such-chromium")})
    assert result.exit_code == pdf.ChromiumNotFound.exit_code, result.output
    assert "apt-get install chromium" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "r.pdf").exists()


def test_cli_before_the_database_is_set_up_says_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    for args in (["report", "1", "-o", str(tmp_path / "r.html")], ["purge-media"]):
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 2, (args, result.output)
        assert "posture-coach db upgrade" in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no empty database file left behind


@needs_chromium
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_real_pdf_of_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict[str, object],
                              lang: str) -> None:
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(CHROMIUM))
    out = pdf.write_pdf(report, tmp_path / "r.pdf", lang)  # type: ignore[arg-type]
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and pages(data) >= 1
    assert re.search(rb"/MediaBox\s*\[0 0 59[45]\.\d+ 84[12]\.\d+\]", data)  # A4 from the print stylesheet
    assert b"/Subtype /Image" in data  # the evidence snapshot
    if lang == "zh" and has_noto_cjk():
        assert b"NotoSansCJK" in data  # the Chinese text is set in Noto CJK, not tofu
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf", "snap.jpg"]


@needs_chromium
def test_cli_report_as_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'pc.db'}"
    db = Database(url, tmp_path / "data")
    db.upgrade()
    with db.session() as s:
        p = repo.create_person(s, "王芳")
        sid = repo.create_session(s, source="role.mp4", person_id=p.id).id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result())
    db.dispose()
    monkeypatch.delenv(pdf.ENV_CHROMIUM, raising=False)
    out = tmp_path / "report.bin"
    result = runner.invoke(app, ["report", str(sid), "-o", str(out), "--format", "pdf", "--db", url])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-") and pages(out.read_bytes()) >= 1
    # The suffix picks the format when --format is not given.
    result = runner.invoke(app, ["report", str(sid), "-o", str(tmp_path / "r.pdf"), "--lang", "en", "--db", url])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


def test_score_without_chromium_refuses_a_pdf_before_the_analysis(tmp_path: Path) -> None:
    # `score --report r.pdf` once wrote HTML into r.pdf and said nothing.
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "bow_side.mp4"
    result = runner.invoke(app, ["score", str(clip), "--report", str(tmp_path / "r.pdf")],
                           env={pdf.ENV_CHROMIUM: str(tmp_path / "no-such-chromium")})
    assert result.exit_code == pdf.ChromiumNotFound.exit_code, result.output
    assert "apt-get install chromium" in result.stderr and not (tmp_path / "r.pdf").exists()


@needs_chromium
def test_score_writes_the_report_in_the_format_its_name_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            model_dir: Path) -> None:
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(CHROMIUM))
    clip = Path(__file__).resolve().parents[1] / "sample_videos" / "bow_side.mp4"
    out = tmp_path / "r.pdf"
    result = runner.invoke(app, ["score", str(clip), "--report", str(out), "--stride", "3",
                                 "--model-dir", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-") and pages(out.read_bytes()) >= 1


def test_a_pdf_to_a_pipe_is_written_into_it_not_over_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        report: dict[str, object]) -> None:
    # `report 1 -o /dev/full` once replaced the device with a file (root may rename over it).
    import os
    import threading

    monkeypatch.setattr(pdf, "render_pdf", lambda *a, **k: b"%PDF-1.4 printed")
    fifo = tmp_path / "r.pdf"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    pdf.write_pdf(report, fifo)
    reader.join(timeout=10)
    assert got == [b"%PDF-1.4 printed"]
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["r.pdf", "snap.jpg"]


def test_a_broken_chromium_is_said_in_the_reports_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pc.db'}"
    db = Database(url, tmp_path / "data")
    db.upgrade()
    with db.session() as s:
        sid = repo.create_session(s, source="role.mp4").id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result())
    db.dispose()
    broken = _fake_chromium(tmp_path, 'echo "boom" >&2; exit 1')
    result = runner.invoke(app, ["report", str(sid), "-o", str(tmp_path / "r.pdf"), "--db", url],
                           env={pdf.ENV_CHROMIUM: str(broken), pdf.ENV_TIMEOUT: "-5"})
    assert result.exit_code == pdf.PdfError.exit_code, result.output
    assert "生成 PDF 失败" in result.stderr and "boom" in result.stderr and "-5 s" not in result.stderr
    assert not (tmp_path / "r.pdf").exists()


@needs_chromium
def test_a_long_review_comment_breaks_across_pages_instead_of_leaving_one_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: dict[str, object]) -> None:
    """Kept whole, a finding with a trainer's 4,000-character comment (the most the API
    takes) is taller than what is left of a page: it moved to the next one and left that
    page mostly empty. A long comment lets its finding break; a short one keeps it whole."""
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(CHROMIUM))
    findings = report["findings"]
    assert isinstance(findings, list) and findings
    long_note = {"decision": "disagree", "trainer": "coach",
                 "comment": ("这个判断不对，学员当时正在双手递名片，身体前倾是礼节。" * 160)[:4000]}
    report["findings"] = [{**findings[0], "review": long_note}, {**findings[0], "id": 99, "review": None}]
    html = rep.render_html(report, "zh")  # type: ignore[arg-type]
    assert html.count('class="finding disagreed long"') == 1 and html.count(' long"') == 1
    split = pages(pdf.write_pdf(report, tmp_path / "split.pdf", "zh").read_bytes())  # type: ignore[arg-type]
    monkeypatch.setattr(rep, "LONG_COMMENT_CHARS", 10**6)  # as before: every finding kept whole
    whole = pages(pdf.write_pdf(report, tmp_path / "whole.pdf", "zh").read_bytes())  # type: ignore[arg-type]
    assert split < whole, (split, whole)
