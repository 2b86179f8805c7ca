"""Spotify's view of each listener (counting rules, section 10): its top lists and its playlists, pulled once a day
into the listener's landing (lib/spotify_view/landing.py), then loaded into raw.spotify_top_items, raw.playlists and
raw.playlist_items.

Both pulls are partitioned by the local day of the pull. Spotify answers only for today, so only today's partition can
be pulled: a day the pull did not run stays missing in the UI and in fct_spotify_top_items. One run pulls every
listener who authorized, each with its own authorization and on its own local day (a listener in Tokyo may be a day
ahead of the installation's zone); the load takes each listener's landed days around the partition's.

When an authorization lacks a scope, the pull of that listener fails once with a line naming it; until
`spotify-assets auth` grants it, later pulls ask nothing for that listener (the recently-played poll never depends
on them). One listener's failure is a warning naming it: the others are pulled, and the run fails only when nobody
could be.
"""

from datetime import date, datetime, timedelta, timezone
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

from spotify_assets.defs.spotify_api.resources import (
    NOBODY_AUTHORIZED,
    SpotifyApiResource,
)
from spotify_assets.lib.listeners import DEFAULT_LISTENER, listener_names, whose
from spotify_assets.lib.raw_tables import (
    PLAYLIST_ITEMS,
    PLAYLISTS,
    SPOTIFY_TOP_ITEMS,
    create_raw_tables,
)
from spotify_assets.lib.spotify_api.client import (
    PLAYLIST_SCOPES,
    TOP_ITEMS_SCOPE,
    SpotifyAuthError,
    SpotifyError,
    SpotifyMissingScope,
)
from spotify_assets.lib.spotify_view.landing import (
    land_playlists,
    land_top_items,
    missing_scopes,
    playlists_folder,
    record_missing_scope,
    top_items_folder,
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

# Local days of the pull. Dagster's last daily partition is UTC's yesterday; end_offset=1 adds UTC's today, and a zone
# ahead of UTC is already on UTC's tomorrow for part of every day (Berlin from 23:00 UTC): hence 2.
spotify_view_days = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=2)


def today(settings: SpotifySettings) -> date:
    """The pull's day: the process clock's date in the listener's zone (counting rules, section 10)."""
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
        context.log.info(whose(settings.listener_name, f"skipped: the authorization lacks {scope} (found on {since}; "
                               f"`{_auth_command(settings.listener_name)}` grants it)"))
    return bool(since)


def _auth_command(listener: str) -> str:
    return "spotify-assets auth" + ("" if listener == DEFAULT_LISTENER else f" --listener {listener}")


def _pull_everyone(context: AssetExecutionContext, settings: SpotifySettings, spotify_api: SpotifyApiResource,
                   scope: str, land) -> tuple[dict, int]:
    """`land(client, root, day)` for every listener who authorized, on the listener's own day, unless its authorization
    is known to lack `scope`. Returns what each listener's pull gave (by name) and the requests made. A listener whose
    pull fails is a warning naming it (a missing scope is recorded, so it is reported once); the step fails only when
    every pull failed."""
    _pull_day(context, settings)
    authorized, _ = spotify_api.authorized_listeners(settings)
    if not authorized:
        raise SpotifyAuthError(NOBODY_AUTHORIZED)
    pulled, problems, requests = {}, [], 0
    for authorization in authorized:
        listener = settings.for_listener(authorization.listener)
        if _scope_recorded_missing(context, listener, scope):
            continue
        root, day = view_root(listener.landing_path), today(listener)
        with spotify_api.client(settings, authorization) as client:
            try:
                pulled[authorization.listener] = land(client, root, day)
            except SpotifyMissingScope as error:
                record_missing_scope(root, error.scope, day)
                problems.append(whose(authorization.listener, str(error).replace(
                    "spotify-assets auth", _auth_command(authorization.listener))))
            except SpotifyError as error:  # Spotify refused or kept failing: what landed is kept, the next run resumes
                problems.append(whose(authorization.listener, str(error)))
            requests += client.requests_made
    if problems and not pulled:
        raise Failure("; ".join(problems))
    for problem in problems:
        context.log.warning(problem)
    return pulled, requests


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
    asked, requests = _pull_everyone(context, spotify_settings, spotify_api, TOP_ITEMS_SCOPE, land_top_items)
    if asked:
        yield MaterializeResult(metadata={"lists_asked": sum(asked.values()), "requests": requests,
                                          "listeners_pulled": len(asked)})


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
    pulls, requests = _pull_everyone(context, spotify_settings, spotify_api, PLAYLIST_SCOPES[0], land_playlists)
    if not pulls:
        return
    for listener, pull in pulls.items():
        if listener == DEFAULT_LISTENER:
            for line in pull.unreadable + pull.skipped:
                context.log.warning(line)
        elif pull.unreadable or pull.skipped:  # counts only: another listener's playlists are its own
            context.log.warning(f"listener {listener}: {len(pull.unreadable)} playlists Spotify would not give the "
                                f"items of, {len(pull.skipped)} entries without a usable id; kept in its landing")
    own = pulls.get(DEFAULT_LISTENER)
    yield MaterializeResult(metadata={
        "playlists": sum(p.playlists for p in pulls.values()), "list_pages_asked": sum(p.pages for p in pulls.values()),
        "refetched": sum(len(p.fetched) for p in pulls.values()), "unchanged": sum(p.unchanged for p in pulls.values()),
        "unreadable": sum(len(p.unreadable) for p in pulls.values()), "requests": requests,
        "listeners_pulled": len(pulls),
        # The default listener's own (the single-listener setup's); the others' only in the counts above.
        "refetched_playlists": MetadataValue.json(own.fetched[:100] if own else []),
    })


def _replace(connection, statement: str, day: date, listener: str, table, rows: list[tuple]) -> None:
    """One listener's rows of one raw table for a day, replaced in one transaction."""
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(statement, [day, listener])
        table.insert(connection, rows)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _landed_days(context: AssetExecutionContext, settings: SpotifySettings, folder) -> list[tuple[SpotifySettings, date]]:
    """Every listener's landed days of the partition's day and the days either side of it (each listener pulls on its
    own local day), for `folder(root, day)`: what the partition's load reads, replacing what it read before."""
    partition_day = date.fromisoformat(context.partition_key)
    days = [partition_day + timedelta(days=offset) for offset in (-1, 0, 1)]
    return [(listener, day) for listener in map(settings.for_listener, listener_names(settings.data_path))
            for day in days if folder(view_root(listener.landing_path), day).is_dir()]


@asset(
    key=RAW_TOP_ITEMS_KEY,
    deps=[TOP_ITEMS_RESPONSES_KEY],
    partitions_def=spotify_view_days,
    pool=WAREHOUSE_POOL,
    group_name="spotify_view",
    kinds={"duckdb", "python"},
    description="One row per rank of each listener's six top lists of a day, rebuilt for the day from landing.",
)
def raw_spotify_top_items(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    # Every landed list read first, so that the warehouse is held only while the rows are replaced.
    lists = [(listener.listener_name, day, top_item_rows(view_root(listener.landing_path), day, loaded_at,
                                                          listener.listener_name))
             for listener, day in _landed_days(context, spotify_settings, top_items_folder)]
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        for name, day, top in lists:
            _replace(connection, "DELETE FROM raw.spotify_top_items WHERE snapshot_date = ? AND listener = ?", day,
                     name, SPOTIFY_TOP_ITEMS, top.rows)
    for name, day, top in lists:
        for problem in top.problems:
            context.log.warning(whose(name, f"top_items/{day}/{problem}"))
    return MaterializeResult(metadata={"dagster/row_count": sum(len(top.rows) for _, _, top in lists),
                                       "unreadable_files": sum(len(top.problems) for _, _, top in lists)})


@multi_asset(
    specs=[
        AssetSpec(RAW_PLAYLISTS_KEY, deps=[PLAYLIST_RESPONSES_KEY], kinds={"duckdb", "python"},
                  description="One row per playlist of each listener's pull of a day, rebuilt for the day from landing; "
                  "owners are reduced to owner_is_me."),
        AssetSpec(RAW_PLAYLIST_ITEMS_KEY, deps=[PLAYLIST_RESPONSES_KEY], kinds={"duckdb", "python"},
                  description="One row per item of each playlist at each snapshot_id landed, local files and "
                  "unavailable tracks included; a snapshot is loaded once."),
    ],
    partitions_def=spotify_view_days,
    pool=WAREHOUSE_POOL,
    group_name="spotify_view",
)
def raw_playlists(context: AssetExecutionContext, spotify_settings: SpotifySettings):
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    status = {name: index for index, name in enumerate(PLAYLISTS.column_names)}
    playlist_count = snapshots = loaded = 0
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        for listener, day in _landed_days(context, spotify_settings, playlists_folder):
            name, root = listener.listener_name, view_root(listener.landing_path)
            playlists = playlist_rows(root, day, loaded_at, name)
            _replace(connection, "DELETE FROM raw.playlists WHERE pulled_on = ? AND listener = ?", day, name, PLAYLISTS,
                     playlists.rows)
            known = set(connection.execute("SELECT DISTINCT playlist_id, snapshot_id FROM raw.playlist_items "
                                           "WHERE listener = ?", [name]).fetchall())
            wanted = sorted({(row[status["playlist_id"]], row[status["snapshot_id"]]) for row in playlists.rows
                             if row[status["items_status"]] == "landed"} - known)
            problems = list(playlists.problems)
            for playlist_id, snapshot_id in wanted:  # a snapshot per transaction: a kill leaves whole snapshots only
                items = playlist_item_rows(root, playlist_id, snapshot_id, loaded_at, name)
                problems += items.problems
                if items.rows:
                    connection.execute("BEGIN TRANSACTION")
                    try:
                        PLAYLIST_ITEMS.insert(connection, items.rows)
                        connection.execute("COMMIT")
                    except BaseException:
                        connection.execute("ROLLBACK")
                        raise
                    loaded += len(items.rows)
            for problem in problems:
                context.log.warning(whose(name, problem))
            playlist_count, snapshots = playlist_count + len(playlists.rows), snapshots + len(wanted)
    yield MaterializeResult(asset_key=RAW_PLAYLISTS_KEY, metadata={"dagster/row_count": playlist_count})
    yield MaterializeResult(asset_key=RAW_PLAYLIST_ITEMS_KEY,
                            metadata={"snapshots_loaded": snapshots, "rows_loaded": loaded})
