"""Sign-in throttling: guessing passwords is slowed to a crawl; people who mistype are not."""

from __future__ import annotations

from posture_coach.server.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_five_wrong_passwords_lock_the_name_for_a_while_then_it_opens_again() -> None:
    clock = Clock()
    th = LoginThrottle(max_failures=5, window_s=900.0, lock_s=300.0, clock=clock)
    for _ in range(4):
        th.failed("LiLei", "10.0.0.2")
    assert th.retry_after_s("lilei", "10.0.0.2") == 0  # four typos: still free to try
    th.failed("lilei ", "10.0.0.2")
    assert th.retry_after_s("LILEI", "10.0.0.9") == 300  # the name, from anywhere
    assert th.retry_after_s("hanmm", "10.0.0.3") == 0  # someone else is not locked out
    clock.t += 299.5
    assert th.retry_after_s("lilei", None) == 1
    clock.t += 1.0
    assert th.retry_after_s("lilei", None) == 0


def test_old_mistakes_expire_and_a_right_password_clears_the_count() -> None:
    clock = Clock()
    th = LoginThrottle(max_failures=3, window_s=60.0, lock_s=30.0, clock=clock)
    th.failed("a", None)
    th.failed("a", None)
    clock.t += 61.0  # out of the window
    th.failed("a", None)
    assert th.retry_after_s("a", None) == 0
    th.failed("a", None)
    th.succeeded("a")
    th.failed("a", None)
    assert th.retry_after_s("a", None) == 0


def test_one_address_spraying_many_names_is_locked_too() -> None:
    clock = Clock()
    th = LoginThrottle(max_failures=2, ip_factor=3, clock=clock)
    for i in range(5):
        th.failed(f"user{i}", "203.0.113.7")
    assert th.retry_after_s("fresh-name", "203.0.113.7") == 0
    th.failed("user9", "203.0.113.7")  # the sixth wrong sign-in from that address
    assert th.retry_after_s("fresh-name", "203.0.113.7") > 0
    assert th.retry_after_s("fresh-name", "198.51.100.1") == 0
