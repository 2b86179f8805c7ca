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


def anyone_to_poll(settings: SpotifySettings) -> bool:
    """Whether a poll has anybody to ask (checked when the schedule ticks): the listeners `poll_targets` would poll.
    A household whose installation owner never authorized still polls everybody else."""
    return bool(SpotifyApiResource().poll_targets(settings)[0])


class SpotifyApiResource(ConfigurableResource):
    """The installation's Spotify app and the default listener's authorization. An empty client secret means a PKCE
    app. Each of the three, when not set here (the tests set them), is read from the environment when a run uses it
    (`SPOTIFY_CLIENT_ID`, `SPOTIFY_CLIENT_SECRET`, `SPOTIFY_REFRESH_TOKEN`; the command line loads them from the
    credentials file `auth` wrote), as every other listener's authorization is read from its own credentials file
    then (`poll_targets`). Unset is an installation whose own listener never authorized: Spotify's view and the catalog
    lookups wait for it, and the listeners who did authorize are polled. Never a value of this resource's config, so
    the UI shows no secret."""

    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    api_base_url: str | None = None  # default: the setting spotify_api_base_url
    accounts_base_url: str | None = None  # default: the setting spotify_accounts_base_url
    backoff_seconds: float = 1.0  # first wait after a 5xx or timeout; doubles per attempt
    timeout_seconds: float = 20.0

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(backoff_seconds=self.backoff_seconds, timeout_seconds=self.timeout_seconds)

    def client(self, settings: SpotifySettings) -> SpotifyClient:
        """`settings`: where `spotify-assets auth` stored the credentials (a rotated refresh token goes back there)."""
        client_id, client_secret, refresh_token = self.installation_credentials()
        if not (client_id and refresh_token):
            raise SpotifyAuthError("the default listener has not authorized a Spotify app: run `spotify-assets auth`")
        return SpotifyClient(
            client_id=client_id,
            client_secret=client_secret or None,
            refresh_token=refresh_token,
            api_base_url=self.api_base_url or settings.setting("spotify_api_base_url"),
            accounts_base_url=self.accounts_base_url or settings.setting("spotify_accounts_base_url"),
            retry=self.retry_policy,
            on_refresh_token=_keeper(settings.data_path / CREDENTIALS_FILE_NAME, refresh_token),
        )

    def installation_credentials(self) -> tuple[str, str, str]:
        """The app's Client ID and secret and the default listener's refresh token: as set here, else as the
        environment has them now, else empty."""
        return tuple(value if value is not None else os.environ.get(name, "") for value, name in (
            (self.client_id, "SPOTIFY_CLIENT_ID"), (self.client_secret, "SPOTIFY_CLIENT_SECRET"),
            (self.refresh_token, "SPOTIFY_REFRESH_TOKEN")))

    def poll_targets(self, settings: SpotifySettings) -> tuple[list[PollTarget], list[str]]:
        """What one poll cycle asks: every listener with an authorization (the default listener's is this resource's,
        every other's its own credentials file, with the installation's app unless it names its own), and the names
        of the listeners without one, who are left out."""
        targets, unauthorized = [], []
        app_id, app_secret, default_token = self.installation_credentials()
        for name in listeners.listener_names(settings.data_path):
            listener = listeners.Listener(name, settings.data_path)
            if listener.is_default:
                client_id, secret, token = app_id, app_secret, default_token
            else:
                own = read_credentials(listener.credentials_path)  # without the installation's fallbacks
                client_id = own.get("SPOTIFY_CLIENT_ID") or app_id
                secret = own.get("SPOTIFY_CLIENT_SECRET") if own.get("SPOTIFY_CLIENT_ID") else app_secret
                token = own.get("SPOTIFY_REFRESH_TOKEN", "")
            if not (token and client_id):
                unauthorized.append(name)
                continue
            targets.append(PollTarget(name, client_id, secret or None, token, listener.landing_path / RESPONSES_FOLDER,
                                      _keeper(listener.credentials_path, token)))
        return targets, unauthorized

