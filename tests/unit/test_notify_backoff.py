"""Retry helpers of the notify channels: full-jitter backoff and the per-key token bucket."""

from __future__ import annotations

import random

import pytest
from xinfang_notify.delivery.channels import backoff_delay
from xinfang_shared.ratelimit import RateLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --------------------------------------------------------------------------- backoff_delay


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 12, 50, 10_000])
def test_backoff_stays_within_bounds(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(600.0, 2.0 * 2 ** min(attempt - 1, 64))
    for _ in range(500):
        d = backoff_delay(attempt, rng=rng)
        assert 0.5 <= d <= max(0.5, ceiling)


def test_backoff_ceiling_grows_exponentially_until_cap() -> None:
    # rng.uniform(0, c) with random() == 1.0 would return c; approximate with many samples.
    maxima = []
    for attempt in range(1, 12):
        rng = random.Random(7)
        maxima.append(
            max(backoff_delay(attempt, base=1.0, cap=100.0, rng=rng) for _ in range(2000))
        )
    # Uncapped attempts: the largest sample sits just under base * 2**(attempt-1).
    for attempt, m in enumerate(maxima[:7], start=1):
        assert 0.95 * 2 ** (attempt - 1) <= m <= 2 ** (attempt - 1)
    # 2**7 = 128 > cap: from attempt 8 on the ceiling is the cap.
    for m in maxima[7:]:
        assert 95.0 <= m <= 100.0
    assert maxima[6] > maxima[3] > maxima[1]


def test_backoff_uses_full_jitter_and_is_reproducible_with_a_seed() -> None:
    a = [backoff_delay(6, rng=random.Random(42)) for _ in range(3)]
    assert a[0] == a[1] == a[2]  # same seed, same delay
    rng = random.Random(42)
    samples = [backoff_delay(6, rng=rng) for _ in range(2000)]  # ceiling 64 s
    assert len(set(samples)) > 1900  # jittered, not a fixed ladder
    assert min(samples) < 5.0 and max(samples) > 60.0  # spread over the whole [0, 64] range
    assert 28.0 < sum(samples) / len(samples) < 36.0  # mean of U(0, 64) is 32
    # Exactly rng.uniform(0, ceiling), floored at 0.5 s.
    expected = max(0.5, random.Random(3).uniform(0.0, 64.0))
    assert backoff_delay(6, rng=random.Random(3)) == expected


def test_backoff_never_below_half_a_second() -> None:
    rng = random.Random(0)
    assert all(backoff_delay(1, base=0.1, rng=rng) == 0.5 for _ in range(100))
    assert min(backoff_delay(1, rng=rng) for _ in range(5000)) == 0.5
    assert backoff_delay(0, rng=rng) >= 0.5  # attempt numbers below 1 count as the first
    assert backoff_delay(3, cap=0.1, rng=rng) == 0.5


def test_backoff_without_rng_uses_a_module_generator() -> None:
    values = {backoff_delay(4) for _ in range(50)}
    assert all(0.5 <= v <= 16.0 for v in values)
    assert len(values) > 1


# --------------------------------------------------------------------------- RateLimiter


def test_rate_limiter_burst_then_refusal_with_the_right_wait() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [rl.try_acquire("unit-a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.try_acquire("unit-a") == pytest.approx(0.5)
    # A refusal takes no token: asking again at the same instant gives the same answer.
    assert rl.try_acquire("unit-a") == pytest.approx(0.5)
    clock.advance(0.2)
    assert rl.try_acquire("unit-a") == pytest.approx(0.3)


def test_rate_limiter_refills_over_time_up_to_burst() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate_per_s=1.0, burst=2, clock=clock)
    assert rl.try_acquire("k") == 0.0
    assert rl.try_acquire("k") == 0.0
    assert rl.try_acquire("k") > 0.0
    clock.advance(1.0)
    assert rl.try_acquire("k") == 0.0
    assert rl.try_acquire("k") == pytest.approx(1.0)
    clock.advance(3600.0)  # a long pause refills to burst, not beyond
    assert [rl.try_acquire("k") for _ in range(2)] == [0.0, 0.0]
    assert rl.try_acquire("k") == pytest.approx(1.0)


def test_rate_limiter_keys_are_independent() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate_per_s=0.5, burst=1, clock=clock)
    assert rl.try_acquire("wecom:hook-1") == 0.0
    assert rl.try_acquire("wecom:hook-1") == pytest.approx(2.0)
    assert rl.try_acquire("wecom:hook-2") == 0.0
    assert rl.try_acquire("sms:13800138000") == 0.0
    assert rl.try_acquire("wecom:hook-2") == pytest.approx(2.0)


def test_rate_limiter_tolerates_a_clock_going_backwards() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    assert rl.try_acquire("k") == 0.0
    clock.advance(-5.0)
    assert rl.try_acquire("k") == pytest.approx(1.0)


def test_rate_limiter_forgets_refilled_keys_without_changing_answers() -> None:
    clock = FakeClock()
    rl = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    rl._PRUNE_AT = 3
    for i in range(3):
        assert rl.try_acquire(f"old-{i}") == 0.0
    clock.advance(10.0)  # the old buckets are full again
    assert rl.try_acquire("hot") == 0.0
    assert rl.try_acquire("new") == 0.0  # crosses the threshold: full buckets are dropped
    assert set(rl._buckets) == {"hot", "new"}
    assert rl.try_acquire("hot") == pytest.approx(1.0)
    assert rl.try_acquire("old-0") == 0.0


def test_rate_limiter_rejects_nonsense_parameters() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate_per_s=0.0, burst=1)
    with pytest.raises(ValueError):
        RateLimiter(rate_per_s=1.0, burst=0)
