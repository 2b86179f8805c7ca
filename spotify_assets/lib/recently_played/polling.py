"""One poll cycle for every listener: each listener's recently-played answer, asked at the same time as the others'.

One httpx async client serves every listener, with at most `concurrency` requests on the wire at once. Each listener
has its own access token, its own cursor (the newest play in its landing) and its own retries: a 429 or a 5xx for one
listener makes that listener wait (Retry-After, else backoff) while the others go on. A listener whose authorization
Spotify refuses (revoked, expired, a missing scope) is reported with the reason and skipped; so is one whose answers
kept failing. Each answer lands in its listener's own landing, byte for byte, as the single poll lands it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.recently_played.landing import (
    Gap,
    LandedResponse,
    MalformedResponse,
    cursor_ms,
    gaps,
    land_response,
    landed_responses,
)
from spotify_assets.lib.spotify_api.client import (
    USER_AGENT,
    AsyncSpotifyClient,
    SpotifyAuthError,
    SpotifyError,
)


@dataclass(frozen=True)
class PollTarget:
    listener: str
    client_id: str
    client_secret: str | None  # None: a PKCE app
    refresh_token: str
    directory: Path  # the listener's landing/recently_played
    on_refresh_token: Callable[[str], None] | None = None  # where a rotated refresh token is kept

    def __repr__(self) -> str:  # never the credentials, wherever a target is shown
        return f"PollTarget({self.listener!r}, {str(self.directory)!r})"


@dataclass(frozen=True)
class PollOutcome:
    listener: str
    cursor_ms: int | None  # the newest play landed before this poll
    landed: LandedResponse | None = None  # None: nothing landed (see problem)
    problem: str | None = None
    needs_authorization: bool = False  # the listener must run `spotify-assets auth` again
    requests: int = 0  # HTTP requests made, retries included
    gaps: list[Gap] = field(default_factory=list)  # every gap of the listener's landing, this poll's included


async def _poll(target: PollTarget, http: httpx.AsyncClient, slots: asyncio.Semaphore, api_base_url: str,
                accounts_base_url: str, retry: RetryPolicy) -> PollOutcome:
    before = landed_responses(target.directory)
    cursor = cursor_ms(before)
    client = AsyncSpotifyClient(http, slots, target.client_id, target.refresh_token, target.client_secret,
                                api_base_url, accounts_base_url, retry, on_refresh_token=target.on_refresh_token)
    try:
        body = await client.recently_played_response(after_ms=cursor)
        landed = land_response(target.directory, int(time.time() * 1000), body)
    except SpotifyAuthError as error:
        return PollOutcome(target.listener, cursor, problem=str(error), needs_authorization=True,
                           requests=client.requests_made, gaps=gaps(before))
    except (SpotifyError, MalformedResponse) as error:
        return PollOutcome(target.listener, cursor, problem=str(error), requests=client.requests_made,
                           gaps=gaps(before))
    # The newest answer lands last (its name starts with the time it was fetched): no second look at the folder.
    return PollOutcome(target.listener, cursor, landed, requests=client.requests_made, gaps=gaps([*before, landed]))


def poll_everyone(targets: list[PollTarget], api_base_url: str, accounts_base_url: str,
                  retry: RetryPolicy = RetryPolicy(), concurrency: int = 16) -> list[PollOutcome]:
    """Poll every target once, at most `concurrency` requests at a time; one outcome per target, in their order."""

    async def cycle() -> list[PollOutcome]:
        # The semaphore is taken before a connection is asked for, so the pool never makes a request wait.
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=retry.timeout_seconds, limits=limits,
                                     headers={"User-Agent": USER_AGENT}) as http:
            slots = asyncio.Semaphore(concurrency)
            return list(await asyncio.gather(*(_poll(target, http, slots, api_base_url, accounts_base_url, retry)
                                               for target in targets)))

    return asyncio.run(cycle())
