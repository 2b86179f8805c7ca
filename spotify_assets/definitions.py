"""The one place where the code location is assembled."""

import sys
from pathlib import Path

from dagster import Definitions, EnvVar, in_process_executor, map_asset_specs, with_source_code_references

from .automation import warehouse_automation_sensor
from .catalog.assets import catalog_tracks, raw_catalog_tracks
from .catalog.schedule import catalog_enrichment_schedule
from .dbt_docs.assets import dbt_docs_site
from .dead_run_sensor import dead_run_sensor
from .exports.assets import import_spotify_export
from .exports.sensor import spotify_inbox_sensor
from .jobs import (
    build_warehouse_job,
    dbt_docs_job,
    catalog_enrichment_job,
    lastfm_enrichment_job,
    import_spotify_export_job,
    poll_recently_played_job,
    recently_played_items_job,
    update_after_poll_job,
)
from .lastfm.assets import lastfm_artist_tags, lastfm_track_info, raw_lastfm_artists, raw_lastfm_tracks
from .lastfm.resource import LastfmResource
from .lastfm.sensor import lastfm_enrichment_sensor
from .publishing.assets import published_marts_database
from .reports.assets import listening_report
from .recently_played.assets import recently_played_items, recently_played_responses
from .recently_played.sensors import recently_played_days_sensor, recently_played_poll_schedule
from .settings import SpotifySettings
from .spotify_api.resource import SpotifyApiResource
from .transformations.assets import warehouse_models
from .transformations.project import dbt_project
from .transformations.resource import WarehouseDbtResource

# One owner for everything: the listener's warehouse has one team behind it.
OWNER = "team:listening-history"

python_assets = with_source_code_references([
    import_spotify_export, recently_played_responses, recently_played_items, published_marts_database, catalog_tracks,
    raw_catalog_tracks, lastfm_track_info, lastfm_artist_tags, raw_lastfm_tracks, raw_lastfm_artists,
    listening_report, dbt_docs_site,
])

defs = Definitions(
    assets=map_asset_specs(lambda spec: spec.replace_attributes(owners=[OWNER]), [*python_assets, warehouse_models]),
    jobs=[import_spotify_export_job, poll_recently_played_job, recently_played_items_job, catalog_enrichment_job,
          lastfm_enrichment_job, build_warehouse_job, update_after_poll_job, dbt_docs_job],
    schedules=[recently_played_poll_schedule, catalog_enrichment_schedule],
    sensors=[spotify_inbox_sensor, recently_played_days_sensor, lastfm_enrichment_sensor, dead_run_sensor,
             warehouse_automation_sensor],
    # Runs launched by the daemon execute their steps in the run's own process. The default (one process per
    # step) pays Python, Dagster and dbt-manifest start-up again for every step, seconds each, for nothing:
    # the warehouse pool lets one writing step run at a time anyway.
    executor=in_process_executor,
    resources={
        "spotify_settings": SpotifySettings(),
        # Secrets only through EnvVar: resolved when a run needs them, never logged or shown.
        # PKCE apps have no secret: set SPOTIFY_CLIENT_SECRET to an empty value.
        "spotify_api": SpotifyApiResource(
            client_id=EnvVar("SPOTIFY_CLIENT_ID"),
            client_secret=EnvVar("SPOTIFY_CLIENT_SECRET"),
            refresh_token=EnvVar("SPOTIFY_REFRESH_TOKEN"),
        ),
        "lastfm": LastfmResource(api_key=EnvVar("LASTFM_API_KEY")),
        # The dbt installed beside this Python, so it works without an activated virtualenv.
        "dbt": WarehouseDbtResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))),
    },
)
