"""One exception tree. Every error a user can cause carries a one-line, actionable message."""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error the coach raises on purpose. ``str(err)`` is shown to the user."""

    exit_code: int = 1


class ConfigError(CoachError):
    """A calibration, profile or settings file is invalid (names the file, table and key)."""

    exit_code = 2


class ModelError(CoachError):
    """A model bundle is missing, unreadable, or fails its sha256 check."""

    exit_code = 3


class SourceError(CoachError):
    """An input (video, image, folder, camera) cannot be opened or decoded."""

    exit_code = 4


class RecordingError(CoachError):
    """A landmark recording (JSONL) is malformed or of an unknown version."""

    exit_code = 4
