"""The PDF report over the API: the HTML report's access rules, application/pdf, 503 without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from posture_coach import pdf
from posture_coach.server.store_api import StoreConfig
from posture_coach.store import Database, repo
from tests.store.helpers import fake_result
from tests.store.test_api import _app, _seed, login

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, int]]:
    """The API with one analysed session of trainee 李雷 (in trainer1's cohort)."""
    app, cfg = _app(tmp_path, run_jobs=False)
    ids = _seed(cfg)
    yield from _with_session(app, cfg, ids["a"])


def _with_session(app: object, cfg: StoreConfig, person_id: int) -> Iterator[tuple[TestClient, int]]:
    db = Database(cfg.db_url, cfg.data_dir)
    with db.session() as s:
        sid = repo.create_session(s, source="role.mp4", person_id=person_id).id
        jid = repo.create_job(s, sid).id
    claim = repo.claim_job(db, jid)
    assert claim and repo.save_results(db, jid, claim, fake_result())
    db.dispose()
    with TestClient(app) as client:  # type: ignore[arg-type]
        yield client, sid


def test_pdf_report_follows_the_html_reports_access_rules(api: tuple[TestClient, int],
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    client, sid = api
    # Access is checked before Chromium is looked for: outsiders learn nothing about the server.
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(tmp_path / "no-such-chromium"))
    for url in (f"/api/sessions/{sid}/report.pdf", f"/api/sessions/{sid}/report?format=pdf"):
        client.cookies.clear()
        assert client.get(url).status_code == 401
        login(client, "trainer2")  # not this trainee's trainer
        assert client.get(url).status_code == client.get(f"/api/sessions/{sid}/report").status_code == 403
        client.cookies.clear()
        login(client, "hanmm")  # another trainee
        assert client.get(url).status_code == 403
    client.cookies.clear()
    login(client, "hr")
    assert client.get("/api/sessions/9999/report.pdf").status_code == 404


def test_missing_chromium_is_a_503_with_a_clear_json_error(api: tuple[TestClient, int],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client, sid = api
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(tmp_path / "no-such-chromium"))
    login(client, "trainer1")
    for url in (f"/api/sessions/{sid}/report.pdf", f"/api/sessions/{sid}/report?format=pdf&lang=en"):
        r = client.get(url)
        assert r.status_code == 503 and r.headers["content-type"] == "application/json"
        body = r.json()
        assert body["error"] == "chromium_missing" and "apt-get install chromium" in body["detail"]
        assert body["reason"] == "chromium_missing" and "Chromium" in body["reason_text"]["en"]


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="no /usr/bin/chromium: apt-get install -y chromium")
def test_pdf_report_is_served(api: tuple[TestClient, int], monkeypatch: pytest.MonkeyPatch) -> None:
    client, sid = api
    monkeypatch.setenv(pdf.ENV_CHROMIUM, str(CHROMIUM))
    # The trainee and their trainer may read it, as the HTML report; by either URL.
    for user, url in (("lilei", f"/api/sessions/{sid}/report.pdf?lang=zh"),
                      ("trainer1", f"/api/sessions/{sid}/report?format=pdf&lang=en")):
        client.cookies.clear()
        login(client, user)
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        disposition = r.headers["content-disposition"]
        assert f'filename="session-{sid}-{url[-2:]}.pdf"' in disposition  # old browsers
        # A downloaded report says what it is and whose: 服务礼仪评估报告_李雷_<date>.pdf.
        title = "服务礼仪评估报告_李雷_" if url.endswith("zh") else "Etiquette_assessment_report_李雷_"
        assert "filename*=UTF-8''" + quote(title) in disposition and disposition.endswith(".pdf")
        assert r.content.startswith(b"%PDF-") and b"/Type /Page" in r.content
