"""Sign-in throttling: repeated wrong passwords lock the account name (and the client) for
a while, so a password cannot be guessed at network speed.

In memory, per server process: a restart forgets the counts, and several worker processes
would each keep their own (the product runs one). A correct password during the lock is
refused too, so the lock cannot be used to test guesses.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """``max_failures`` wrong attempts within ``window_s`` lock the key for ``lock_s``.

    Keys are a user name (case-folded) and a client address; the address gets
    ``ip_factor`` times the allowance (people behind one office router share it)."""

    max_failures: int = 5
    window_s: float = 900.0
    lock_s: float = 300.0
    ip_factor: int = 4
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, username: str, client: str | None) -> list[tuple[str, int]]:
        keys = [(f"user:{username.strip().casefold()}", self.max_failures)]
        if client:
            keys.append((f"ip:{client}", self.max_failures * self.ip_factor))
        return keys

    def retry_after_s(self, username: str, client: str | None) -> int:
        """Seconds until a sign-in may be tried again; 0 when it may be now."""
        now = self.clock()
        with self._lock:
            until = max((self._locked_until.get(k, 0.0) for k, _ in self._keys(username, client)), default=0.0)
        return max(0, int(until - now + 0.999))

    def failed(self, username: str, client: str | None) -> None:
        now = self.clock()
        with self._lock:
            for key, allowed in self._keys(username, client):
                q = self._fails.setdefault(key, deque())
                q.append(now)
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= allowed:
                    self._locked_until[key] = now + self.lock_s
                    q.clear()
            if len(self._fails) > 10_000:  # never grows without bound under a spray
                stale = [k for k, q in self._fails.items() if not q or now - q[-1] > self.window_s]
                for k in stale:
                    del self._fails[k]

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(f"user:{username.strip().casefold()}", None)
