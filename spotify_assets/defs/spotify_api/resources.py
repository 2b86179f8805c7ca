"""The Spotify Web API as a Dagster resource. Credentials arrive through EnvVar (see defs/resources.py)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from spotify_assets.lib import listeners
from spotify_assets.lib.configuration import read_credentials
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


NOBODY_AUTHORIZED = ("no listener has authorized a Spotify app: run `spotify-assets auth` (or "
                     "`spotify-assets auth --listener NAME`)")


def anyone_authorized(settings: SpotifySettings) -> bool:
    """Whether any listener has authorized a Spotify app (checked when a schedule ticks, never at import): whom the
    poll and Spotify's view ask, and whose authorization the catalog lookups use. A household whose installation owner
    never authorized still serves everybody who did."""
    return bool(SpotifyApiResource().authorized_listeners(settings)[0])


class SpotifyApiResource(ConfigurableResource):
    """The installation's Spotify app and the default listener's authorization. An empty client secret means a PKCE
    app. Each of the three, when not set here (the tests set them), is read from the environment when a run uses it
    (`SPOTIFY_CLIENT_ID`, `SPOTIFY_CLIENT_SECRET`, `SPOTIFY_REFRESH_TOKEN`; the command line loads them from the
    credentials file `auth` wrote), as every other listener's authorization is read from its own credentials file
    then (`authorized_listeners`). Unset is an installation whose own listener never authorized: the listeners who did
    are polled and pulled, and the catalog lookups use one of their authorizations. Never a value of this resource's
    config, so the UI shows no secret."""

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

    def client(self, settings: SpotifySettings, authorization: PollTarget) -> SpotifyClient:
        """A client asking with one listener's authorization (from `authorized_listeners`); a rotated refresh token
        goes back to that listener's credentials file."""
        return SpotifyClient(
            client_id=authorization.client_id,
            client_secret=authorization.client_secret,
            refresh_token=authorization.refresh_token,
            api_base_url=self.api_base_url or settings.setting("spotify_api_base_url"),
            accounts_base_url=self.accounts_base_url or settings.setting("spotify_accounts_base_url"),
            retry=self.retry_policy,
            on_refresh_token=authorization.on_refresh_token,
        )

    def catalog_client(self, settings: SpotifySettings) -> SpotifyClient:
        """A client for the catalog, which answers the same whoever asks: with the default listener's authorization,
        else the first other listener's."""
        authorized, _ = self.authorized_listeners(settings)
        if not authorized:
            raise SpotifyAuthError(NOBODY_AUTHORIZED)
        return self.client(settings, authorized[0])

    def installation_credentials(self) -> tuple[str, str, str]:
        """The app's Client ID and secret and the default listener's refresh token: as set here, else as the
        environment has them now, else empty."""
        return tuple(value if value is not None else os.environ.get(name, "") for value, name in (
            (self.client_id, "SPOTIFY_CLIENT_ID"), (self.client_secret, "SPOTIFY_CLIENT_SECRET"),
            (self.refresh_token, "SPOTIFY_REFRESH_TOKEN")))

    def authorized_listeners(self, settings: SpotifySettings) -> tuple[list[PollTarget], list[str]]:
        """Every listener with an authorization, the default listener first (its authorization is this resource's,
        every other's its own credentials file, with the installation's app unless it names its own): whom one poll
        cycle and one pull of Spotify's view ask. And the names of the listeners without one, who are left out."""
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

