"""Synthetic studio: labelled renders of posed people (optional ``synth`` extra).

Renders an `anny <https://pypi.org/project/anny/>`_ body model, posed with named,
parameterised postures, off-screen with moderngl (EGL) and writes an mp4 clip with a
JSONL ground-truth sidecar (see :mod:`posture_coach.synth.labels`).

Importing this package is cheap: torch, anny and moderngl are imported only inside the
sub-modules that need them (``body``, ``render``, ``scenario``), never by
``posture_coach`` itself.

Axes (anny's, used everywhere in this package unless stated): metres, Z up, -Y is the
person's forward, +X is the person's own left; the world origin is on the floor under
the pelvis.
"""

from __future__ import annotations

__all__: list[str] = []
