"""The published marts database: what people, the report and the demo read."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.listeners import DEFAULT_LISTENER, listener_names
from spotify_assets.lib.publishing.publish import publish_listeners
from spotify_assets.lib.warehouse import WAREHOUSE_POOL
from spotify_assets.settings import SpotifySettings

MART_KEYS = [key for key in warehouse_models.keys if key.path[0] == "marts"]
PUBLISHED_KEY = AssetKey(["published", "marts_database"])


@asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    group_name="marts",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,  # copies the warehouse's marts file, so it must not overlap a writer
    description="$SPOTIFY_DATA_DIR/marts.duckdb: every marts table and the range macros (top_artists, "
    "top_tracks, heatmap, hour_drilldown): a copy of the warehouse's marts file, replaced atomically after each build.",
)
def published_marts_database(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    destinations = {name: spotify_settings.for_listener(name).published_marts_path
                    for name in listener_names(spotify_settings.data_path)}
    published = publish_listeners(spotify_settings.warehouse_marts_path, destinations)
    for name, publication in published.items():
        context.log.info(f"Published {len(publication.row_counts)} tables ({publication.bytes_copied / 1e6:,.1f} MB) "
                         f"to {destinations[name]}")
    counts = published[DEFAULT_LISTENER].row_counts
    table = "\n".join(["| table | rows |", "|---|---|"] + [f"| marts.{name} | {rows:,} |" for name, rows in counts.items()])
    # The default listener's figures (the single-listener setup's); the others' only as their files' sizes, so no
    # listener's names or counts show in another's view of the run.
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(spotify_settings.published_marts_path)),
        "tables": MetadataValue.md(table),
        "plays": counts.get("fct_plays", 0),
        "bytes": published[DEFAULT_LISTENER].bytes_copied,
        "listeners_published": len(published),
    })
