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
        th.failed("LiLei")
    assert th.retry_after_s("lilei") == 0  # four typos: still free to try
    th.failed("lilei ")
    assert th.retry_after_s("LILEI") == 300  # the name, however it is typed
    assert th.retry_after_s("hanmm") == 0  # someone else is not locked out
    clock.t += 299.5
    assert th.retry_after_s("lilei") == 1
    clock.t += 1.0
    assert th.retry_after_s("lilei") == 0


def test_old_mistakes_expire_and_a_right_password_clears_the_count() -> None:
    clock = Clock()
    th = LoginThrottle(max_failures=3, window_s=60.0, lock_s=30.0, clock=clock)
    th.failed("a")
    th.failed("a")
    clock.t += 61.0  # out of the window
    th.failed("a")
    assert th.retry_after_s("a") == 0
    th.failed("a")
    th.succeeded("a")
    th.failed("a")
    assert th.retry_after_s("a") == 0


def test_many_names_failing_from_one_place_lock_none_of_the_others() -> None:
    """Behind a reverse proxy a whole training room signs in from one address: trainees
    mistyping their own passwords must not lock HR out."""
    th = LoginThrottle(max_failures=5, clock=Clock())
    for i in range(6):
        for _ in range(4):
            th.failed(f"trainee{i}")
    assert th.retry_after_s("hr") == 0 and all(th.retry_after_s(f"trainee{i}") == 0 for i in range(6))
