"""The Spotify Web API as a Dagster resource. Credentials arrive through EnvVar (see defs/resources.py)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from spotify_assets.lib import listeners
from spotify_assets.lib.configuration import CREDENTIALS_FILE_NAME, read_credentials
from spotify_assets.lib.http_retry import RetryPolicy
from spotify_assets.lib.recently_played.landing import RESPONSES_FOLDER
from spotify_assets.lib.recently_played.polling import PollTarget
from spotify_assets.lib.spotify_api.authorization import remember_rotated_refresh_token
from spotify_assets.lib.spotify_api.client import SpotifyAuthError, SpotifyClient
from spotify_assets.settings import SpotifySettings


def _keeper(credentials_file: Path, token: str):
    """What hands a rotated refresh token back to the credentials file it came from."""
    current = {"token": token}

    def keep_rotated(new_token: str) -> None:
        remember_rotated_refresh_token(credentials_file, current["token"], new_token)
        current["token"] = new_token

    return keep_rotated


def credentials_configured() -> bool:
    """The default listener's app id and refresh token are set (the secret may be empty for PKCE apps): what Spotify's
    view and the catalog lookups ask with. Checked when a schedule ticks, never at import."""
    return bool(os.environ.get("SPOTIFY_CLIENT_ID")) and bool(os.environ.get("SPOTIFY_REFRESH_TOKEN"))


def anyone_to_poll(data_path: Path) -> bool:
    """Whether a poll has anybody to ask (checked when the schedule ticks): the default listener's app and
    authorization, or another listener's own authorization with its own app or the installation's. A household whose
    installation owner never authorized still polls everybody else."""
    if credentials_configured():
        return True
    installation_app = os.environ.get("SPOTIFY_CLIENT_ID")
    for name in listeners.listener_names(data_path)[1:]:
        own = read_credentials(listeners.Listener(name, data_path).credentials_path)
        if own.get("SPOTIFY_REFRESH_TOKEN") and (own.get("SPOTIFY_CLIENT_ID") or installation_app):
            return True
    return False


class SpotifyApiResource(ConfigurableResource):
    """The installation's Spotify app and the default listener's authorization. An empty client secret means a PKCE
    app; an empty Client ID or refresh token, an installation without an app or a default listener who has not
    authorized (every other listener is still polled). Every other listener's authorization is its own credentials
    file (`poll_targets`)."""

    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    api_base_url: str | None = None  # default: the setting spotify_api_base_url
    accounts_base_url: str | None = None  # default: the setting spotify_accounts_base_url
    backoff_seconds: float = 1.0  # first wait after a 5xx or timeout; doubles per attempt
    timeout_seconds: float = 20.0

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds)

    def client(self, settings: SpotifySettings) -> SpotifyClient:
        """`settings`: where `spotify-assets auth` stored the credentials (a rotated refresh token goes back there)."""
        if not (self.client_id and self.refresh_token):
            raise SpotifyAuthError("the default listener has not authorized a Spotify app: run `spotify-assets auth`")
        return SpotifyClient(
            client_id=self.client_id,
            client_secret=self.client_secret or None,
            refresh_token=self.refresh_token,
            api_base_url=self.api_base_url or settings.setting("spotify_api_base_url"),
            accounts_base_url=self.accounts_base_url or settings.setting("spotify_accounts_base_url"),
            retry=self.retry_policy,
            on_refresh_token=_keeper(settings.data_path / CREDENTIALS_FILE_NAME, self.refresh_token),
        )

    def poll_targets(self, settings: SpotifySettings) -> tuple[list[PollTarget], list[str]]:
        """What one poll cycle asks: every listener with an authorization (the default listener's is this resource's,
        every other's its own credentials file, with the installation's app unless it names its own), and the names
        of the listeners without one, who are left out."""
        targets, unauthorized = [], []
        for name in listeners.listener_names(settings.data_path):
            listener = listeners.Listener(name, settings.data_path)
            if listener.is_default:
                client_id, secret, token = self.client_id, self.client_secret, self.refresh_token
            else:
                own = read_credentials(listener.credentials_path)  # without the installation's fallbacks
                client_id = own.get("SPOTIFY_CLIENT_ID") or self.client_id
                secret = own.get("SPOTIFY_CLIENT_SECRET") if own.get("SPOTIFY_CLIENT_ID") else self.client_secret
                token = own.get("SPOTIFY_REFRESH_TOKEN", "")
            if not (token and client_id):
                unauthorized.append(name)
                continue
            targets.append(PollTarget(name, client_id, secret or None, token, listener.landing_path / RESPONSES_FOLDER,
                                      _keeper(listener.credentials_path, token)))
        return targets, unauthorized

