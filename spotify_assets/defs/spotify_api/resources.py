"""The Spotify Web API as a Dagster resource. Credentials arrive through EnvVar (see defs/resources.py)."""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from spotify_assets.lib.configuration import CREDENTIALS_FILE_NAME
from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.spotify_api.authorization import remember_rotated_refresh_token
from spotify_assets.lib.spotify_api.client import SpotifyClient
from spotify_assets.settings import SpotifySettings


def credentials_configured() -> bool:
    """Live polling is on when the listener's app id and refresh token are set (the secret may be
    empty for PKCE apps). Checked when a schedule ticks, never at import."""
    return bool(os.environ.get("SPOTIFY_CLIENT_ID")) and bool(os.environ.get("SPOTIFY_REFRESH_TOKEN"))


class SpotifyApiResource(ConfigurableResource):
    """The listener's own Spotify app. An empty client secret means a PKCE app."""

    client_id: str
    client_secret: str = ""
    refresh_token: str
    api_base_url: str | None = None  # default: the setting spotify_api_base_url
    accounts_base_url: str | None = None  # default: the setting spotify_accounts_base_url
    backoff_seconds: float = 1.0  # first wait after a 5xx or timeout; doubles per attempt
    timeout_seconds: float = 20.0

    def client(self, settings: SpotifySettings) -> SpotifyClient:
        """`settings`: where `spotify-assets auth` stored the credentials (a rotated refresh token goes back there)."""
        credentials_file = settings.data_path / CREDENTIALS_FILE_NAME
        current = {"token": self.refresh_token}

        def keep_rotated(new_token: str) -> None:
            remember_rotated_refresh_token(credentials_file, current["token"], new_token)
            current["token"] = new_token

        return SpotifyClient(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            refresh_token=self.refresh_token,
            api_base_url=self.api_base_url or settings.setting("spotify_api_base_url"),
            accounts_base_url=self.accounts_base_url or settings.setting("spotify_accounts_base_url"),
            retry=RetryPolicy(backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds),
            on_refresh_token=keep_rotated,
        )
