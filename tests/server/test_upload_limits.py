"""The upload size limit holds whatever the transfer encoding.

``POST /api/uploads`` refuses a body that declares a Content-Length over the limit at
once. A chunked body declares no length: the server must stop reading it once it has
passed the limit (plus the form's own overhead), answer the same 413 ``too_large`` with
its zh/en texts, and leave no file, spool or session behind. Checked against a real
uvicorn server (the test client would read a streamed body whole before the app saw it).
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from posture_coach.server.store_api import FORM_OVERHEAD, StoreConfig
from tests.server.test_browser import serving
from tests.store.test_api import PASSWORDS, _app, _seed, _stored

REPO = Path(__file__).resolve().parents[2]
VIDEO = REPO / "sample_videos" / "hands_front.mp4"  # about 150 kB, a real H.264 MP4
LIMIT = 300_000  # max_upload_bytes of the app under test
CHUNK = 64 * 1024  # what the client writes at a time
OVERSIZE = 64 * 1024 * 1024  # a chunked body far over the limit
# The most one ASGI message from uvicorn holds: it stops reading the socket at 64 KiB
# buffered, after a read of up to 256 KiB.
ONE_MESSAGE = 384 * 1024
# Socket buffers of the client and the server (small, so that what the network holds
# between them when the refusal comes is small too), and that allowance.
SOCKET_BUFFER = 64 * 1024
IN_FLIGHT = 1024 * 1024


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2's production cost would dominate these tests (as in tests/store)."""
    from argon2 import PasswordHasher, profiles

    from posture_coach.store import passwords

    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


class ReadCounter:
    """ASGI middleware: how many body bytes the app took from the server, per request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read = 0
        self.framing = ""  # how the last request's body came: "chunked" or "content-length"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.read = 0
        headers = dict(scope["headers"])
        self.framing = ("chunked" if headers.get(b"transfer-encoding", b"").lower() == b"chunked"
                        else "content-length" if b"content-length" in headers else "")

        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@dataclass
class Store:
    url: str
    cfg: StoreConfig
    ids: dict[str, int]
    counter: ReadCounter

    def tmp_files(self) -> list[Path]:
        tmp = Path(self.cfg.data_dir or ".") / "uploads" / "tmp"
        return sorted(tmp.iterdir()) if tmp.is_dir() else []


@contextmanager
def serving_small_buffer(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a loopback socket with a small receive buffer; yields
    its base URL (no trailing slash)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)  # the accepted sockets inherit it
    sock.bind(("127.0.0.1", 0))
    try:
        with serving(app, sock=sock) as url:
            yield url.rstrip("/")
    finally:
        sock.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The store API with a small upload limit, served by uvicorn on the loopback."""
    app, cfg = _app(tmp_path, run_jobs=False, max_upload_bytes=LIMIT)
    ids = _seed(cfg)
    counter = ReadCounter(app)
    with serving_small_buffer(counter) as url:
        yield Store(url, cfg, ids, counter)


@contextmanager
def signed_in(store: Store, user: str = "hr") -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client (small send buffer) with the session cookie of ``user``, and its CSRF token."""
    transport = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)])
    with httpx.Client(base_url=store.url, timeout=60, transport=transport) as client:
        r = client.post("/api/auth/login", json={"username": user, "password": PASSWORDS[user]})
        assert r.status_code == 200, r.text
        yield client, str(r.json()["csrf_token"])


class ChunkedForm:
    """A multipart upload sent as a generator (so httpx sends it chunked, no Content-Length),
    counting the bytes it has handed to the client."""

    BOUNDARY = "pc-test-boundary-7f3a"

    def __init__(self, fields: dict[str, str], payload: Iterator[bytes], filename: str = "clip.mp4") -> None:
        self.fields = fields
        self.payload = payload
        self.filename = filename
        self.sent = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.BOUNDARY}"

    def _parts(self) -> Iterator[bytes]:
        b = self.BOUNDARY
        for name, value in self.fields.items():
            yield f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        yield (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{self.filename}"\r\n'
               "Content-Type: video/mp4\r\n\r\n").encode()
        yield from self.payload
        yield f"\r\n--{b}--\r\n".encode()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._parts():
            self.sent += len(chunk)
            yield chunk


def zeros_after_an_mp4_head(total: int) -> Iterator[bytes]:
    """``total`` bytes that start like an MP4 (``ftyp``), in CHUNK-sized pieces."""
    head = b"\x00\x00\x00\x18ftypmp42"
    yield head
    left = total - len(head)
    while left > 0:
        n = min(CHUNK, left)
        yield b"\x00" * n
        left -= n


def file_in_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def open_temp_files() -> set[str]:
    """This process's open files in the temp folder (Starlette spools there; the
    server runs in a thread of this process)."""
    tmp = os.path.realpath(tempfile.gettempdir())
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(tmp + "/"):
            out.add(target)
    return out


def post_chunked(client: httpx.Client, csrf: str, form: ChunkedForm, *, csrf_in_form: bool = False) -> httpx.Response:
    headers = {"Content-Type": form.content_type}
    if not csrf_in_form:
        headers["X-CSRF-Token"] = csrf
    try:
        return client.post("/api/uploads", content=iter(form), headers=headers)
    except httpx.TransportError as exc:  # the server hung up before the client heard the answer
        pytest.fail(f"no answer to a chunked upload after {form.sent} bytes: {type(exc).__name__}: {exc}")


# -- over the limit ---------------------------------------------------------------------------


def _says_the_limit() -> dict[str, str]:
    """The refusal names the limit (it said only "over the upload size limit")."""
    return {"zh": "文件超过上传大小限制（300 KB），请压缩或剪短后重试。",  # LIMIT
            "en": "The file is over the upload limit of 300 KB; compress or shorten it and try again."}


@pytest.mark.parametrize("csrf_in_form", [False, True], ids=["csrf-header", "csrf-form-field"])
def test_a_chunked_upload_over_the_limit_is_refused_without_reading_it_whole(store: Store,
                                                                              csrf_in_form: bool) -> None:
    with signed_in(store) as (client, csrf):
        fields = {"person_id": str(store.ids["a"]), "consent": "true"}
        if csrf_in_form:
            fields["csrf_token"] = csrf  # no header: the server reads the form to check the token
        form = ChunkedForm(fields, zeros_after_an_mp4_head(OVERSIZE))
        spools_before = open_temp_files()
        r = post_chunked(client, csrf, form, csrf_in_form=csrf_in_form)
    assert store.counter.framing == "chunked"

    # The same refusal as a declared Content-Length over the limit gets.
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["reason"] == "too_large" and "limit" in body["detail"]
    assert body["reason_text"] == _says_the_limit()
    # The app stopped reading at the limit plus the form's overhead (and one message).
    assert store.counter.read <= LIMIT + FORM_OVERHEAD + ONE_MESSAGE, store.counter.read
    # The client could hand over little more than that before it heard the refusal.
    assert form.sent <= LIMIT + FORM_OVERHEAD + CHUNK + IN_FLIGHT, form.sent
    # Nothing left behind: no part file, no open spool, no session.
    assert store.tmp_files() == []
    assert open_temp_files() <= spools_before
    assert _stored(store.cfg) == (0, [])


def test_a_declared_length_over_the_limit_is_refused_before_any_of_it_is_read(store: Store) -> None:
    form = ChunkedForm({"person_id": str(store.ids["a"]), "consent": "true"},
                       zeros_after_an_mp4_head(8 * 1024 * 1024))
    with signed_in(store) as (client, csrf):
        r = client.post("/api/uploads", content=b"".join(form),  # bytes: sent with a Content-Length
                        headers={"X-CSRF-Token": csrf, "Content-Type": form.content_type})
    assert store.counter.framing == "content-length"
    assert r.status_code == 413 and r.json()["reason"] == "too_large"
    assert r.json()["reason_text"] == _says_the_limit()
    assert store.counter.read == 0
    assert _stored(store.cfg) == (0, [])


# -- under the limit --------------------------------------------------------------------------


def test_a_chunked_upload_under_the_limit_is_stored(store: Store) -> None:
    form = ChunkedForm({"person_id": str(store.ids["a"]), "consent": "true"}, file_in_chunks(VIDEO),
                       filename="hands_front.mp4")
    with signed_in(store) as (client, csrf):
        r = post_chunked(client, csrf, form)
    assert store.counter.framing == "chunked"
    assert r.status_code == 202, r.text
    assert r.json()["container"] == "mp4" and r.json()["bytes"] == VIDEO.stat().st_size
    assert store.tmp_files() == []
    n, files = _stored(store.cfg)
    assert n == 1 and [f.name for f in files] == ["video.mp4"]


def test_an_upload_with_a_content_length_under_the_limit_is_stored(store: Store) -> None:
    with signed_in(store) as (client, csrf):
        r = client.post("/api/uploads", files={"file": ("hands_front.mp4", VIDEO.read_bytes(), "video/mp4")},
                        data={"person_id": str(store.ids["a"]), "consent": "true"},
                        headers={"X-CSRF-Token": csrf})
    assert store.counter.framing == "content-length"
    assert r.status_code == 202, r.text
    assert r.json()["bytes"] == VIDEO.stat().st_size
    assert _stored(store.cfg)[0] == 1
