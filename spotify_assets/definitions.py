"""The one place where the code location is assembled."""

import sys
from pathlib import Path

from dagster import Definitions
from dagster_dbt import DbtCliResource

from .automation import warehouse_automation_sensor
from .exports.assets import import_spotify_export
from .exports.sensor import spotify_inbox_sensor
from .publishing.assets import published_marts_database
from .jobs import build_warehouse_job, import_spotify_export_job
from .settings import SpotifySettings
from .transformations.assets import warehouse_models
from .transformations.project import dbt_project

defs = Definitions(
    assets=[import_spotify_export, warehouse_models, published_marts_database],
    jobs=[import_spotify_export_job, build_warehouse_job],
    sensors=[spotify_inbox_sensor, warehouse_automation_sensor],
    resources={
        "spotify_settings": SpotifySettings(),
        # The dbt installed beside this Python, so it works without an activated virtualenv.
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))),
    },
)
