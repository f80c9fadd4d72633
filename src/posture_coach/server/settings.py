"""Server settings: one frozen object handed to :func:`posture_coach.server.create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

AcquireMode = Literal["frame", "session"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """What the live server runs with. Defaults suit one laptop and one trainee.

    ``acquire`` picks how sessions share the landmarker pool: ``"frame"`` takes an
    instance per frame (fair sharing when sessions outnumber instances, with affinity to
    the instance a session used last so tracking state mostly stays its own);
    ``"session"`` holds one for the whole connection (later sessions wait).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    # Serving beyond this machine exposes camera streams: a signed-in user (issue 8 roles)
    # is then required for /ws/live. None = required unless bound to a loopback address.
    require_login: bool | None = None
    model_dir: Path | None = None
    pool_size: int = 2
    max_frame_bytes: int = 2_000_000
    max_text_bytes: int = 65_536
    max_sessions: int = 4
    acquire: AcquireMode = "frame"
    acquire_timeout_s: float = 5.0
    face: bool = True
    hands: bool = True
    web_dir: Path | None = None
    warm_up: bool = True
    fetch_models: bool = True  # False: use only models already present (tests, offline)
    # Live cues: a finding must persist this long before a cue, then the rule rests.
    cue_after_s: float = 2.0
    cue_cooldown_s: float = 10.0
    cue_gap_s: float = 4.0
    calibration_s: float = 2.0
    score_every_s: float = 1.0

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ValueError("pool_size must be ≥ 1")
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be ≥ 1")
        if self.max_frame_bytes < 1024:
            raise ValueError("max_frame_bytes must be ≥ 1024")
        if self.acquire not in ("frame", "session"):
            raise ValueError("acquire must be 'frame' or 'session'")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def login_required(settings: ServerSettings) -> bool:
    """Is a signed-in user needed for the live stream? (Always, off the loopback address.)"""
    if settings.require_login is not None:
        return settings.require_login
    return settings.host not in LOOPBACK_HOSTS
