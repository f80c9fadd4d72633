"""Off the loopback address, the live stream needs a signed-in user (issue 7, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from posture_coach.server import ServerSettings, create_app
from posture_coach.server.settings import login_required
from posture_coach.store import repo
from tests.store.helpers import empty_store


@pytest.mark.parametrize(
    ("host", "required"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True), ("192.168.1.20", True)],
)
def test_login_is_required_beyond_loopback(host: str, required: bool) -> None:
    assert login_required(ServerSettings(host=host)) is required
    assert login_required(ServerSettings(host=host, require_login=True)) is True


@pytest.fixture
def network_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    db = empty_store(tmp_path, monkeypatch)
    with db.session() as s:
        person = repo.create_person(s, "王芳", consent_media=False)
        repo.create_user(s, "trainee1", "trainee-pass-1", "trainee", person_id=person.id)
    db.dispose()
    settings = ServerSettings(host="0.0.0.0", model_dir=tmp_path, fetch_models=False, warm_up=False)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_live_stream_refuses_strangers_and_admits_signed_in_users(network_client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as err, network_client.websocket_connect("/ws/live") as ws:
        ws.receive_json()
    assert err.value.code == 1008
    r = network_client.post("/api/auth/login", json={"username": "trainee1", "password": "trainee-pass-1"})
    assert r.status_code == 200, r.text
    with network_client.websocket_connect("/ws/live") as ws:
        assert ws.receive_json()["type"] == "hello"
