"""The live path: polling recently-played into landing, and landing into daily partitions of raw rows.

`spotify_api/recently_played_responses` asks Spotify for the plays after the newest one landed and
stores the answer unchanged; its check `no_plays_lost` fails, naming the window, when a poll came back
as a full page entirely newer than that cursor (Spotify keeps only 50 plays, so plays were lost).
`raw/recently_played_items` is partitioned by the UTC day of played_at and rebuilt, day by day, from
landing alone; the sensor in `sensors.py` requests exactly the days a poll touched.
"""

import json
import time
from datetime import date, datetime, timedelta, timezone

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    DailyPartitionsDefinition,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.lib.raw_tables import RECENTLY_PLAYED_ITEMS, create_raw_tables
from spotify_assets.lib.recently_played.landing import (
    cursor_ms,
    gaps,
    land_response,
    landed_responses,
    played_at_ms,
)
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

RESPONSES_KEY = AssetKey(["spotify_api", "recently_played_responses"])
ITEMS_KEY = AssetKey(["raw", "recently_played_items"])
GAP_CHECK = "no_plays_lost"
RECENT_GAPS = timedelta(days=7)  # gaps older than this are history: reported, no longer failing

# A poll is due every 30 minutes; an hour without a successful one warns, two fail: plays may be slipping out of
# Spotify's 50-play window. The daemon evaluates it without launching a run (never-polled shows as unknown).
POLL_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=2), warn_window=timedelta(hours=1))

# UTC days of played_at; the current day is a partition too, since polls land plays of today.
recently_played_days = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


def _iso(epoch_ms: int | None) -> str | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


@asset(
    key=RESPONSES_KEY,
    group_name="sources",
    kinds={"spotify", "python"},
    freshness_policy=POLL_FRESHNESS,
    check_specs=[AssetCheckSpec(GAP_CHECK, asset=RESPONSES_KEY, description=(
        "Fails when a poll in the last 7 days returned a full page of 50 plays all newer than the previous "
        "cursor: Spotify keeps only the last 50, so the plays in between were probably lost."))],
    description="Raw recently-played answers in landing/recently_played/, one per poll, unchanged.",
)
def recently_played_responses(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                              spotify_api: SpotifyApiResource):
    directory = spotify_settings.landing_path / "recently_played"
    cursor = cursor_ms(landed_responses(directory))
    with spotify_api.client(spotify_settings) as client:
        body = client.recently_played_response(after_ms=cursor)
    landed = land_response(directory, int(time.time() * 1000), body)
    context.log.info(f"Landed {landed.items} plays newer than {_iso(cursor) or 'nothing (first poll)'} "
                     f"as {landed.path.name}.")

    now_ms = int(time.time() * 1000)
    recent = [g for g in gaps(landed_responses(directory)) if now_ms - g.detected_at_ms <= RECENT_GAPS.total_seconds() * 1000]
    yield MaterializeResult(
        asset_key=RESPONSES_KEY,
        metadata={
            "plays_received": landed.items,
            "cursor_before": _iso(cursor) or "none",
            "newest_play": _iso(landed.newest_ms) if landed.items else "none",
            "touched_days": MetadataValue.json([d.isoformat() for d in landed.days]),
            "response_file": landed.path.name,
        },
    )
    yield AssetCheckResult(
        asset_key=RESPONSES_KEY,
        check_name=GAP_CHECK,
        passed=not recent,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(g.describe() for g in recent) or "Every poll in the last 7 days joined up with the one before.",
        metadata={"gaps_last_7_days": len(recent),
                  "windows": MetadataValue.json([{"after": _iso(g.after_ms), "before": _iso(g.before_ms)} for g in recent])},
    )


def _item_rows(response_path, days: set[date], loaded_at: datetime, listener: str) -> tuple[list[tuple], int]:
    """Rows of raw.recently_played_items for the items of one landed response played on `days`."""
    rows, unreadable = [], 0
    for index, item in enumerate(json.loads(response_path.read_bytes()).get("items") or []):
        try:
            played_ms = played_at_ms(item["played_at"])
            track = item.get("track") or {}
            album = track.get("album") or {}
            context = item.get("context") or {}
        except (KeyError, TypeError, ValueError, AttributeError):
            unreadable += 1
            continue
        played = datetime.fromtimestamp(played_ms / 1000, tz=timezone.utc).replace(tzinfo=None)
        if played.date() not in days:
            continue
        artists = [{"id": a.get("id"), "name": a.get("name"), "uri": a.get("uri")} for a in track.get("artists") or []]
        rows.append(RECENTLY_PLAYED_ITEMS.row(
            played_at=played, track_id=track.get("id"), track_uri=track.get("uri"), track_name=track.get("name"),
            duration_ms=track.get("duration_ms"), explicit=track.get("explicit"), is_local=track.get("is_local"),
            isrc=(track.get("external_ids") or {}).get("isrc"), album_id=album.get("id"), album_name=album.get("name"),
            album_release_date=album.get("release_date"), artists_json=json.dumps(artists, ensure_ascii=False),
            context_type=context.get("type"), context_uri=context.get("uri"), _response_file=response_path.name,
            _item_index=index, _loaded_at=loaded_at, listener=listener))
    return rows, unreadable


@asset(
    key=ITEMS_KEY,
    deps=[RESPONSES_KEY],
    partitions_def=recently_played_days,
    backfill_policy=BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    group_name="sources",
    kinds={"duckdb", "python"},
    description="One row per recently-played item, rebuilt for each UTC day from the responses in landing.",
)
def recently_played_items(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    days = {date.fromisoformat(key) for key in context.partition_keys}
    directory = spotify_settings.landing_path / "recently_played"
    responses = [r for r in landed_responses(directory) if any(r.covers(d) for d in days)]
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows, unreadable = [], 0
    for response in responses:
        response_rows, response_unreadable = _item_rows(response.path, days, loaded_at, spotify_settings.listener_name)
        rows += response_rows
        unreadable += response_unreadable
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute("DELETE FROM raw.recently_played_items WHERE cast(played_at AS DATE) IN "
                               "(SELECT unnest(?::DATE[]))", [sorted(days)])
            if rows:
                connection.executemany(RECENTLY_PLAYED_ITEMS.insert_statement(), rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    if unreadable:
        context.log.warning(f"{unreadable} items without a readable played_at were skipped (they stay in landing).")
    return MaterializeResult(metadata={"dagster/row_count": len(rows), "responses_read": len(responses),
                                       "items_unreadable": unreadable, "days": len(days)})
