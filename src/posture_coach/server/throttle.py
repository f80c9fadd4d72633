"""Sign-in throttling: repeated wrong passwords lock the account name for a while, so a
password cannot be guessed at network speed.

Per name only, not per client address: behind the usual reverse proxy (README) every
browser in a training room comes from one address, and locking it would lock everyone
out, HR included. In memory, per server process: a restart forgets the counts, and several
worker processes would each keep their own (the product runs one). A correct password
during the lock is refused too, so the lock cannot be used to test guesses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """``max_failures`` wrong attempts for a user name (case-folded) within ``window_s``
    lock that name for ``lock_s``."""

    max_failures: int = 5
    window_s: float = 900.0
    lock_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().casefold()

    def retry_after_s(self, username: str) -> int:
        """Seconds until this name may try to sign in again; 0 when it may now."""
        now = self.clock()
        with self._lock:
            until = self._locked_until.get(self._key(username), 0.0)
        return max(0, int(until - now + 0.999))

    def failed(self, username: str) -> None:
        now = self.clock()
        key = self._key(username)
        with self._lock:
            q = self._fails.setdefault(key, deque())
            q.append(now)
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.max_failures:
                self._locked_until[key] = now + self.lock_s
                q.clear()
            if len(self._fails) > 10_000:  # never grows without bound under a spray
                stale = [k for k, q in self._fails.items() if not q or now - q[-1] > self.window_s]
                for k in stale:
                    del self._fails[k]

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(self._key(username), None)
