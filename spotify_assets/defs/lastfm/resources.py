"""Last.fm as a Dagster resource; the API key arrives through EnvVar (see defs/resources.py)."""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from spotify_assets.lib.lastfm.client import LastfmClient
from spotify_assets.settings import SpotifySettings


def lastfm_configured() -> bool:
    """Enrichment is on when LASTFM_API_KEY is set (the commands load the credentials file into the environment);
    checked when a sensor ticks, never at import."""
    return bool(os.environ.get("LASTFM_API_KEY"))


class LastfmResource(ConfigurableResource):
    api_key: str
    base_url: str | None = None  # default: the setting lastfm_api_base_url
    requests_per_second: float | None = None  # default: the setting lastfm_requests_per_second
    backoff_seconds: float = 1.0

    def client(self, settings: SpotifySettings) -> LastfmClient:
        """`settings`: the data folder whose settings fill what the resource leaves unset."""
        return LastfmClient(self.api_key, base_url=self.base_url or settings.setting("lastfm_api_base_url"),
                            requests_per_second=self.requests_per_second
                            or settings.setting("lastfm_requests_per_second"), backoff_seconds=self.backoff_seconds)
