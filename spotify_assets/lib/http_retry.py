"""One retry policy for every external API (the Spotify Web API, Last.fm, and those to come), on tenacity.

A call that fails in a way worth another attempt (HTTP 429 and 5xx, a timeout, a network fault, a body that does not
parse, a service's own "try later") raises `Transient`; anything else ends the call at once. Between attempts the
caller's `sleep` waits what the server asked for (`Retry-After`) or else an exponential backoff, and never more than
`max_wait_seconds`. After `max_attempts` attempts the call raises `GaveUp`, naming the last problem.
`async_call_with_retries` and `async_send` are the same policy for httpx's async client: a coroutine that waits for
its retry lets every other one go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import tenacity

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_seconds: float = 1.0  # the first wait; doubles with each attempt
    max_wait_seconds: float = 60.0  # cap for Retry-After and backoff alike
    timeout_seconds: float = 20.0  # per request


class Transient(Exception):
    """A failure worth another attempt: what went wrong, and how long the server asked to wait (if it said)."""

    def __init__(self, problem: str, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


class GaveUp(Exception):
    def __init__(self, attempts: int, problem: str):
        super().__init__(f"gave up after {attempts} attempts ({problem})")
        self.attempts = attempts
        self.problem = problem


def _retrying_arguments(policy: RetryPolicy, backoff_from: int) -> dict:
    """What tenacity needs for the policy, the same for blocking and async calls."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception()
        asked = error.retry_after if isinstance(error, Transient) else None
        seconds = asked if asked else policy.backoff_seconds * 2 ** (state.attempt_number - 1 + backoff_from)
        return min(seconds, policy.max_wait_seconds)

    def give_up(state: tenacity.RetryCallState):
        raise GaveUp(state.attempt_number, state.outcome.exception().problem)

    return {"stop": tenacity.stop_after_attempt(policy.max_attempts), "wait": wait,
            "retry": tenacity.retry_if_exception_type(Transient), "retry_error_callback": give_up}


def call_with_retries(call: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None],
                      backoff_from: int = 0) -> T:
    """`call()` until it returns or raises something other than Transient. `backoff_from` shifts the backoff's
    doubling (1: the first wait is already doubled, for a retry nested inside another)."""
    return tenacity.Retrying(sleep=sleep, **_retrying_arguments(policy, backoff_from))(call)


async def async_call_with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy,
                                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                                  backoff_from: int = 0) -> T:
    """`await call()` as `call_with_retries` calls `call()`; the waits are `await sleep(seconds)`."""
    return await tenacity.AsyncRetrying(sleep=sleep, **_retrying_arguments(policy, backoff_from))(call)


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header's seconds; None when missing, zero, negative or not a number (then: back off)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds and seconds > 0 else None


def _transient(response: httpx.Response) -> httpx.Response:
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("retry-after")))
    return response


def send(http: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    """One HTTP request; a timeout, a network fault, 429 or 5xx raises Transient (with the server's Retry-After, any
    spelling: httpx headers are case-insensitive). Any other answer returns."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise Transient("timed out") from None
    except httpx.TransportError as error:
        raise Transient(f"network error ({type(error).__name__})") from None
    return _transient(response)


async def async_send(http: httpx.AsyncClient, method: str, url: str, **kwargs) -> httpx.Response:
    """`send` on httpx's async client."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise Transient("timed out") from None
    except httpx.TransportError as error:
        raise Transient(f"network error ({type(error).__name__})") from None
    return _transient(response)
