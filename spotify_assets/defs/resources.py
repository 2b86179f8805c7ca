"""The resources every run shares, and how its steps execute."""


import os

import dagster as dg

from spotify_assets.defs.lastfm.resources import LastfmResource
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.transformations.project import dbt_project
from spotify_assets.defs.transformations.resources import WarehouseDbtResource
from spotify_assets.settings import SpotifySettings


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "spotify_settings": SpotifySettings(),
            # Secrets only through EnvVar: resolved when a run needs them, never logged or shown.
            # PKCE apps have no secret: set SPOTIFY_CLIENT_SECRET to an empty value.
            "spotify_api": SpotifyApiResource(
                client_id=_secret("SPOTIFY_CLIENT_ID"),
                client_secret=_secret("SPOTIFY_CLIENT_SECRET"),
                refresh_token=_secret("SPOTIFY_REFRESH_TOKEN"),
            ),
            "lastfm": LastfmResource(api_key=dg.EnvVar("LASTFM_API_KEY")),
            # dbt's Python API, in the run's own process (defs/transformations/resources.py says why).
            "dbt": WarehouseDbtResource(project_dir=str(dbt_project.project_dir)),
        },
        # Runs launched by the daemon execute their steps in the run's own process. The default (one process per
        # step) pays Python, Dagster and dbt-manifest start-up again for every step, seconds each, for nothing:
        # the warehouse pool lets one writing step run at a time anyway.
        executor=dg.in_process_executor,
    )


def _secret(name: str) -> dg.EnvVar | str:
    """The variable as an EnvVar when it is set (to anything, empty included), else empty: an installation whose own
    listener never authorized (or without an app of its own) still polls the listeners who did."""
    return dg.EnvVar(name) if name in os.environ else ""
