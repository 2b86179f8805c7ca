"""Jobs the sensor and the command line launch; everything else runs through automation."""

from dagster import AssetSelection, define_asset_job

from .exports.assets import import_spotify_export
from .publishing.assets import published_marts_database
from .transformations.assets import warehouse_models

import_spotify_export_job = define_asset_job(
    "import_spotify_export_job",
    selection=AssetSelection.assets(import_spotify_export),
    description="Import one landed Spotify export (a partition) into raw.*.",
)

build_warehouse_job = define_asset_job(
    "build_warehouse_job",
    selection=AssetSelection.assets(warehouse_models, published_marts_database),
    description="Build and test every dbt model (staging, intermediate, marts), then publish marts.duckdb.",
)
