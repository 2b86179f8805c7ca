"""The resources every run shares, and how its steps execute."""


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
            # Secrets only from the environment: resolved when a run needs them, never logged or shown. The Spotify
            # app and the default listener's authorization may be unset (a household whose installation owner never
            # authorized still polls everybody else), which an EnvVar cannot be: the resource reads them itself.
            "spotify_api": SpotifyApiResource(),
            "lastfm": LastfmResource(api_key=dg.EnvVar("LASTFM_API_KEY")),
            # dbt's Python API, in the run's own process (defs/transformations/resources.py says why).
            "dbt": WarehouseDbtResource(project_dir=str(dbt_project.project_dir)),
        },
        # Runs launched by the daemon execute their steps in the run's own process. The default (one process per
        # step) pays Python, Dagster and dbt-manifest start-up again for every step, seconds each, for nothing:
        # the warehouse pool lets one writing step run at a time anyway.
        executor=dg.in_process_executor,
    )

