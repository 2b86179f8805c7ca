"""Last.fm as a Dagster resource; the API key arrives through EnvVar (see defs/resources.py)."""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from spotify_assets.lib.lastfm.client import DEFAULT_BASE_URL, LastfmClient


def lastfm_configured() -> bool:
    """Enrichment is on when LASTFM_API_KEY is set; checked when a sensor ticks, never at import."""
    return bool(os.environ.get("LASTFM_API_KEY"))


class LastfmResource(ConfigurableResource):
    api_key: str
    base_url: str | None = None  # default: LASTFM_API_BASE_URL, else https://ws.audioscrobbler.com/2.0/
    requests_per_second: float | None = None  # default: LASTFM_REQUESTS_PER_SECOND, else 4
    backoff_seconds: float = 1.0

    def client(self) -> LastfmClient:
        rate = self.requests_per_second or float(os.environ.get("LASTFM_REQUESTS_PER_SECOND") or 4)
        return LastfmClient(self.api_key, base_url=self.base_url or os.environ.get("LASTFM_API_BASE_URL") or DEFAULT_BASE_URL,
                            requests_per_second=rate, backoff_seconds=self.backoff_seconds)
