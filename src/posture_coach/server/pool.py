"""A landmarker pool that remembers which instance served a session last.

VIDEO-mode landmarkers track: each frame's search region comes from the previous
frame's result. When sessions share instances frame by frame, giving a session the
instance it used last keeps that tracking state its own whenever possible; otherwise
any free instance will do (the tracker re-detects when it loses the person).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..landmarker import LandmarkerConfig, LandmarkerPool, Landmarkers


class AffinityPool(LandmarkerPool):
    """:class:`LandmarkerPool` with a preferred instance per caller and usage counters."""

    def __init__(self, config: LandmarkerConfig, size: int = 2) -> None:
        super().__init__(config, size)
        self._in_use = 0
        self._stats_lock = threading.Lock()
        self.switches = 0  # times a caller got another instance than its last one

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def created(self) -> int:
        return self._created

    @contextmanager
    def acquire_for(
        self, last: Landmarkers | None, timeout: float | None = None
    ) -> Iterator[Landmarkers]:
        """Like :meth:`acquire`, preferring ``last`` when it is free."""
        lm = self._take_preferring(last, timeout)
        with self._stats_lock:
            self._in_use += 1
            if last is not None and lm is not last:
                self.switches += 1
        try:
            yield lm
        finally:
            with self._stats_lock:
                self._in_use -= 1
            with self._cond:
                if self._closed:
                    lm.close()
                else:
                    self._free.append(lm)
                    self._cond.notify()

    def _take_preferring(self, last: Landmarkers | None, timeout: float | None) -> Landmarkers:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("pool is closed")
                if last is not None and last in self._free:
                    self._free.remove(last)
                    return last
                if self._free:
                    return self._free.pop(0)
                if self._created < self.size:
                    self._created += 1
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("no landmarker free")
                self._cond.wait(left)
        try:
            return Landmarkers(self.config)
        except BaseException:
            with self._cond:
                self._created -= 1
                self._cond.notify()
            raise

    def warm(self) -> None:
        """Create one instance now so the first session does not pay the load time."""
        with self.acquire_for(None):
            pass
