"""The published marts database: what people, the report and the demo read."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

from ..automation import follows_new_data
from ..settings import SpotifySettings
from ..transformations.assets import warehouse_models
from ..warehouse import WAREHOUSE_POOL
from .publish import PUBLISHED_SCHEMA, publish_marts

MART_KEYS = [key for key in warehouse_models.keys if key.path[0] == "marts"]


def _groups_dbt_rewrites() -> dict[str, list[str]]:
    """The unique_key of each incremental marts model: dbt replaces whole groups of it, so publishing
    compares those groups instead of every row."""
    manifest = get_manifest_and_translator_from_dbt_assets([warehouse_models])[0]
    groups = {}
    for node in manifest["nodes"].values():
        unique_key = node["config"].get("unique_key") if node["resource_type"] == "model" else None
        if unique_key and node["schema"] == PUBLISHED_SCHEMA:
            groups[node["alias"]] = [unique_key] if isinstance(unique_key, str) else list(unique_key)
    return groups


GROUPS_DBT_REWRITES = _groups_dbt_rewrites()


@asset(
    key=AssetKey(["published", "marts_database"]),
    deps=MART_KEYS,
    group_name="marts",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,  # reads the warehouse file, so it must not overlap a writer
    automation_condition=follows_new_data,
    description="$SPOTIFY_DATA_DIR/marts.duckdb: every marts table and the range macros (top_artists, "
    "top_tracks, heatmap, hour_drilldown), replaced atomically after each build.",
)
def published_marts_database(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    publication = publish_marts(spotify_settings.warehouse_path, spotify_settings.published_marts_path,
                               GROUPS_DBT_REWRITES)
    counts = publication.row_counts
    context.log.info(f"Published {len(counts)} tables to {spotify_settings.published_marts_path} "
                     f"({publication.rows_written:,} rows written{', into the previous copy' if publication.incremental else ''})")
    table = "\n".join(["| table | rows |", "|---|---|"] + [f"| marts.{name} | {rows:,} |" for name, rows in counts.items()])
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(spotify_settings.published_marts_path)),
        "tables": MetadataValue.md(table),
        "plays": counts.get("fct_plays", 0),
        "rows_written": publication.rows_written,
        "built_from_previous_copy": publication.incremental,
    })
