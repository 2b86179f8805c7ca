"""Spotify's view of the listener (counting rules, section 10): its top lists and the listener's playlists, pulled once a
day into landing (lib/spotify_view/landing.py), then loaded into raw.spotify_top_items, raw.playlists and
raw.playlist_items.

Both pulls are partitioned by the local day of the pull. Spotify answers only for today, so only today's partition can
be pulled: a day the pull did not run stays missing in the UI and in fct_spotify_top_items. When the authorization
lacks a scope, the pull fails once with a line naming it; until `spotify-assets auth` grants it, later pulls ask
nothing and materialize nothing (the recently-played poll never depends on them).
"""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.lib.raw_tables import (
    PLAYLIST_ITEMS,
    PLAYLISTS,
    SPOTIFY_TOP_ITEMS,
    create_raw_tables,
)
from spotify_assets.lib.spotify_api.client import (
    PLAYLIST_SCOPES,
    TOP_ITEMS_SCOPE,
    SpotifyMissingScope,
)
from spotify_assets.lib.spotify_view.landing import (
    land_playlists,
    land_top_items,
    missing_scopes,
    record_missing_scope,
    view_root,
)
from spotify_assets.lib.spotify_view.reading import (
    playlist_item_rows,
    playlist_rows,
    top_item_rows,
)
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

TOP_ITEMS_RESPONSES_KEY = AssetKey(["spotify_api", "top_items_responses"])
PLAYLIST_RESPONSES_KEY = AssetKey(["spotify_api", "playlist_responses"])
RAW_TOP_ITEMS_KEY = AssetKey(["raw", "spotify_top_items"])
RAW_PLAYLISTS_KEY = AssetKey(["raw", "playlists"])
RAW_PLAYLIST_ITEMS_KEY = AssetKey(["raw", "playlist_items"])

# Local days of the pull (the configured zone's today may be UTC's tomorrow, hence the offset).
spotify_view_days = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


def today(settings: SpotifySettings) -> date:
    """The pull's day: the process clock's date in the configured zone (counting rules, section 10)."""
    return datetime.now(timezone.utc).astimezone(ZoneInfo(settings.setting("timezone"))).date()


def _pull_day(context: AssetExecutionContext, settings: SpotifySettings) -> date:
    day = date.fromisoformat(context.partition_key)
    if day != today(settings):
        raise Failure(f"Spotify answers only for today ({today(settings)}), not for {day}: a day the pull missed stays "
                      "missing.")
    return day


def _scope_recorded_missing(context: AssetExecutionContext, settings: SpotifySettings, scope: str) -> bool:
    """The scope was found missing before and no authorization has come since: nothing to ask, nothing to report."""
    since = missing_scopes(view_root(settings.landing_path)).get(scope)
    if since:
        context.log.info(f"skipped: the authorization lacks {scope} (found on {since}; `spotify-assets auth` grants it)")
    return bool(since)


def _missing_scope(settings: SpotifySettings, day: date, error: SpotifyMissingScope) -> Failure:
    record_missing_scope(view_root(settings.landing_path), error.scope, day)
    return Failure(str(error))


@asset(
    key=TOP_ITEMS_RESPONSES_KEY,
    partitions_def=spotify_view_days,
    output_required=False,
    group_name="spotify_view",
    kinds={"spotify", "python"},
    description="Spotify's own top artists and tracks for the short (4 weeks), medium (6 months) and long term, "
    "GET /v1/me/top/{artists,tracks}?limit=50, six answers a day in landing/spotify_view/top_items/<day>/, unchanged. "
    "Only today's partition can be pulled (scope user-top-read).",
)
def top_items_responses(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                        spotify_api: SpotifyApiResource):
    day = _pull_day(context, spotify_settings)
    if _scope_recorded_missing(context, spotify_settings, TOP_ITEMS_SCOPE):
        return
    with spotify_api.client(spotify_settings) as client:
        try:
            asked = land_top_items(client, view_root(spotify_settings.landing_path), day)
        except SpotifyMissingScope as error:
            raise _missing_scope(spotify_settings, day, error) from None
        requests = client.requests_made
    yield MaterializeResult(metadata={"lists_asked": asked, "requests": requests})


@asset(
    key=PLAYLIST_RESPONSES_KEY,
    partitions_def=spotify_view_days,
    output_required=False,
    group_name="spotify_view",
    kinds={"spotify", "python"},
    description="Your playlists (GET /v1/me/playlists, every page) and the items of each playlist whose snapshot_id "
    "changed (GET /v1/playlists/{id}/items, every page), in landing/spotify_view/, unchanged. A playlist Spotify "
    "will not open is noted and kept. Only today's partition can be pulled (scopes playlist-read-private and "
    "playlist-read-collaborative).",
)
def playlist_responses(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                       spotify_api: SpotifyApiResource):
    day = _pull_day(context, spotify_settings)
    if _scope_recorded_missing(context, spotify_settings, PLAYLIST_SCOPES[0]):
        return
    with spotify_api.client(spotify_settings) as client:
        try:
            pull = land_playlists(client, view_root(spotify_settings.landing_path), day)
        except SpotifyMissingScope as error:
            raise _missing_scope(spotify_settings, day, error) from None
        requests = client.requests_made
    for line in pull.unreadable + pull.skipped:
        context.log.warning(line)
    yield MaterializeResult(metadata={
        "playlists": pull.playlists, "list_pages_asked": pull.pages, "refetched": len(pull.fetched),
        "unchanged": pull.unchanged, "unreadable": len(pull.unreadable), "requests": requests,
        "refetched_playlists": MetadataValue.json(pull.fetched[:100]),
    })


def _replace(connection, statement: str, day: date, table, rows: list[tuple]) -> None:
    """The day's rows of one raw table, replaced in one transaction."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(statement, [day])
        if rows:
            connection.executemany(table.insert_statement(), rows)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


@asset(
    key=RAW_TOP_ITEMS_KEY,
    deps=[TOP_ITEMS_RESPONSES_KEY],
    partitions_def=spotify_view_days,
    pool=WAREHOUSE_POOL,
    group_name="spotify_view",
    kinds={"duckdb", "python"},
    description="One row per rank of each day's six top lists, rebuilt for the day from landing.",
)
def raw_spotify_top_items(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    top = top_item_rows(view_root(spotify_settings.landing_path), day, datetime.now(timezone.utc).replace(tzinfo=None),
                        spotify_settings.listener_name)
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        _replace(connection, "DELETE FROM raw.spotify_top_items WHERE snapshot_date = ?", day, SPOTIFY_TOP_ITEMS, top.rows)
    for problem in top.problems:
        context.log.warning(problem)
    return MaterializeResult(metadata={"dagster/row_count": len(top.rows), "unreadable_files": len(top.problems)})


@multi_asset(
    specs=[
        AssetSpec(RAW_PLAYLISTS_KEY, deps=[PLAYLIST_RESPONSES_KEY], kinds={"duckdb", "python"},
                  description="One row per playlist of each day's pull, rebuilt for the day from landing; owners are "
                  "reduced to owner_is_me."),
        AssetSpec(RAW_PLAYLIST_ITEMS_KEY, deps=[PLAYLIST_RESPONSES_KEY], kinds={"duckdb", "python"},
                  description="One row per item of each playlist at each snapshot_id landed, local files and "
                  "unavailable tracks included; a snapshot is loaded once."),
    ],
    partitions_def=spotify_view_days,
    pool=WAREHOUSE_POOL,
    group_name="spotify_view",
)
def raw_playlists(context: AssetExecutionContext, spotify_settings: SpotifySettings):
    day = date.fromisoformat(context.partition_key)
    root = view_root(spotify_settings.landing_path)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    playlists = playlist_rows(root, day, loaded_at, spotify_settings.listener_name)
    status = {name: index for index, name in enumerate(PLAYLISTS.column_names)}
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        _replace(connection, "DELETE FROM raw.playlists WHERE pulled_on = ?", day, PLAYLISTS, playlists.rows)
        known = set(connection.execute("SELECT DISTINCT playlist_id, snapshot_id FROM raw.playlist_items").fetchall())
        wanted = sorted({(row[status["playlist_id"]], row[status["snapshot_id"]]) for row in playlists.rows
                         if row[status["items_status"]] == "landed"} - known)
        loaded, problems = 0, list(playlists.problems)
        for playlist_id, snapshot_id in wanted:  # a snapshot per transaction: a kill leaves whole snapshots only
            items = playlist_item_rows(root, playlist_id, snapshot_id, loaded_at, spotify_settings.listener_name)
            problems += items.problems
            if items.rows:
                connection.execute("BEGIN TRANSACTION")
                try:
                    connection.executemany(PLAYLIST_ITEMS.insert_statement(), items.rows)
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                loaded += len(items.rows)
    for problem in problems:
        context.log.warning(problem)
    yield MaterializeResult(asset_key=RAW_PLAYLISTS_KEY, metadata={"dagster/row_count": len(playlists.rows)})
    yield MaterializeResult(asset_key=RAW_PLAYLIST_ITEMS_KEY,
                            metadata={"snapshots_loaded": len(wanted), "rows_loaded": loaded})
