"""The resources every run shares, and how its steps execute."""

import sys
from pathlib import Path

import dagster as dg

from spotify_assets.defs.lastfm.resources import LastfmResource
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.transformations.project import dbt_project
from spotify_assets.defs.transformations.resources import WarehouseDbtResource
from spotify_assets.settings import SpotifySettings


@dg.definitions
def resources() -> dg.Definitions:
    settings = SpotifySettings()
    return dg.Definitions(
        resources={
            "spotify_settings": settings,
            # Secrets only through EnvVar: resolved when a run needs them, never logged or shown.
            # PKCE apps have no secret: set SPOTIFY_CLIENT_SECRET to an empty value.
            "spotify_api": SpotifyApiResource(
                client_id=dg.EnvVar("SPOTIFY_CLIENT_ID"),
                client_secret=dg.EnvVar("SPOTIFY_CLIENT_SECRET"),
                refresh_token=dg.EnvVar("SPOTIFY_REFRESH_TOKEN"),
                settings=settings,
            ),
            "lastfm": LastfmResource(api_key=dg.EnvVar("LASTFM_API_KEY")),
            # The dbt installed beside this Python, so it works without an activated virtualenv.
            "dbt": WarehouseDbtResource(project_dir=dbt_project,
                                        dbt_executable=str(Path(sys.executable).with_name("dbt"))),
        },
        # Runs launched by the daemon execute their steps in the run's own process. The default (one process per
        # step) pays Python, Dagster and dbt-manifest start-up again for every step, seconds each, for nothing:
        # the warehouse pool lets one writing step run at a time anyway.
        executor=dg.in_process_executor,
    )
