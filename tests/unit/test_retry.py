"""The retry helper (xinfang_shared.retry): the pauses between tries, when it gives up, and
that cancelling a retrying task stops it at once."""

from __future__ import annotations

import asyncio

import pytest
from xinfang_shared.retry import Backoff, linear, pause, retry


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_reset() -> None:
    backoff = Backoff(0.2, cap=5.0)
    assert [backoff.next_delay() for _ in range(8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 0.2


def test_linear_gives_up_after_the_last_attempt() -> None:
    wait = linear(0.1, attempts=3)
    err = RuntimeError()
    assert [wait(err, n) for n in (1, 2, 3)] == [0.1, 0.2, None]
    assert pause(0.5)(err, 1000) == 0.5


class Flaky:
    """Fails ``failures`` times, then returns ``"done"``."""

    def __init__(self, failures: int) -> None:
        self.left = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.left:
            self.left -= 1
            raise ConnectionError(f"down ({self.left} more)")
        return "done"


async def test_retries_until_the_call_succeeds_pausing_as_the_backoff_says() -> None:
    flaky = Flaky(4)
    pauses: list[float] = []
    result = await retry(
        flaky,
        wait=Backoff(0.001, cap=0.004),
        before_sleep=lambda exc, delay: pauses.append(delay),
    )
    assert result == "done"
    assert flaky.calls == 5
    assert pauses == [0.001, 0.002, 0.004, 0.004]


async def test_an_async_before_sleep_is_awaited_before_each_pause() -> None:
    seen: list[str] = []

    async def note(exc: Exception, delay: float) -> None:
        await asyncio.sleep(0)
        seen.append(str(exc))

    assert await retry(Flaky(2), wait=pause(0), before_sleep=note) == "done"
    assert seen == ["down (1 more)", "down (0 more)"]


async def test_giving_up_raises_the_last_error_itself() -> None:
    flaky = Flaky(10)
    with pytest.raises(ConnectionError, match=r"down \(7 more\)"):
        await retry(flaky, wait=linear(0.001, attempts=3))
    assert flaky.calls == 3


async def test_the_wait_sees_each_error_and_the_failures_so_far() -> None:
    seen: list[tuple[str, int]] = []

    def wait(exc: Exception, failures: int) -> float | None:
        seen.append((type(exc).__name__, failures))
        return None if isinstance(exc, ValueError) else 0

    calls = iter([ConnectionError(), TimeoutError(), ValueError()])

    async def fn() -> None:
        raise next(calls)

    with pytest.raises(ValueError):
        await retry(fn, wait=wait)
    assert seen == [("ConnectionError", 1), ("TimeoutError", 2), ("ValueError", 3)]


async def test_cancelling_a_retrying_task_stops_it_during_its_pause() -> None:
    flaky = Flaky(1_000_000)
    task = asyncio.create_task(retry(flaky, wait=pause(30)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1)
    assert flaky.calls == 1


async def test_a_cancellation_raised_by_the_call_is_never_retried() -> None:
    calls = 0

    async def cancelled() -> None:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await retry(cancelled, wait=pause(0))
    assert calls == 1
