"""`spotify-assets auth`: authorize your own Spotify app once, for the recently-played poll and for Spotify's view of
you (top lists, playlists); run it again to grant a scope you did not approve."""

from __future__ import annotations

from spotify_assets.cli.failures import CommandFailed
from spotify_assets.settings import SpotifySettings


def authorize(settings: SpotifySettings, client_id: str | None, redirect_uri: str, print_only: bool,
              timeout_seconds: float, open_url=None, listener_name: str | None = None) -> None:
    """The one-time authorization-code flow; stores the credentials in the listener's credentials file (0600) or
    prints them to export. Another listener's authorization may use the installation's app (Client ID and secret)."""
    import os
    import webbrowser

    from spotify_assets.lib.configuration import read_credentials, write_credentials
    from spotify_assets.lib.listeners import listener
    from spotify_assets.lib.spotify_api.authorization import (
        authorization_request,
        exchange_code,
        wait_for_code,
    )
    from spotify_assets.lib.spotify_view.landing import forget_missing_scopes

    try:
        whose = listener(settings.data_path, listener_name)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    stored = whose.secrets()
    client_id = client_id or os.environ.get("SPOTIFY_CLIENT_ID") or stored.get("SPOTIFY_CLIENT_ID")
    if not client_id:
        raise CommandFailed("give --client-id (or set SPOTIFY_CLIENT_ID): the Client ID of your app at "
                            "https://developer.spotify.com/dashboard")
    # Unset or empty: a PKCE app.
    client_secret = os.environ.get("SPOTIFY_CLIENT_SECRET", stored.get("SPOTIFY_CLIENT_SECRET")) or None
    accounts = settings.setting("spotify_accounts_base_url")
    request = authorization_request(client_id, redirect_uri, accounts, pkce=client_secret is None)
    print(f"Open this address, sign in and approve ({'PKCE' if client_secret is None else 'client secret'} flow):\n\n"
          f"  {request.url}\n\nWaiting for Spotify to redirect to {redirect_uri} ...", flush=True)
    (open_url or webbrowser.open)(request.url)
    code = wait_for_code(request, timeout_seconds)
    refresh_token, missing = exchange_code(request, code, client_id, client_secret, accounts)
    values = {"SPOTIFY_CLIENT_ID": client_id, "SPOTIFY_CLIENT_SECRET": client_secret or "",
              "SPOTIFY_REFRESH_TOKEN": refresh_token}
    if missing:
        print(f"\nSpotify did not grant {', '.join(missing)}: the recently-played poll works, Spotify's top lists "
              "and your playlists are not pulled until you run `spotify-assets auth` again and approve every scope.")
    forget_missing_scopes(settings.for_listener(whose.name))  # a new authorization: Spotify's view is asked again
    if print_only:
        print("\nAuthorized. Add these lines to your environment:\n")
        print("\n".join(f"export {name}='{value}'" for name, value in values.items()))
        return
    path = whose.credentials_path
    write_credentials(path, {**read_credentials(path), **values})  # a Last.fm key stored beside them stays
    print(f"\nAuthorized{'' if whose.is_default else f' for {whose.name}'}. Credentials stored in {path} (readable "
          "by you only); spotify-assets commands load it, and the schedule starts polling under `spotify-assets ui`.")
