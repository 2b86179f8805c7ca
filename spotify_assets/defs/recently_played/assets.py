"""The live path: polling recently-played into landing, and landing into daily partitions of raw rows.

`spotify_api/recently_played_responses` asks Spotify, for every listener at once (lib/recently_played/polling.py),
for the plays after the newest one landed and stores each answer unchanged; its check `no_plays_lost` fails, naming
the window, when a poll came back as a full page entirely newer than that cursor (Spotify keeps only 50 plays, so
plays were lost), and `every_listener_polled` warns, naming who and why, when a listener could not be polled.
`raw/recently_played_items` is partitioned by the UTC day of played_at and rebuilt, day by day, from every
listener's landing alone; the sensor in `sensors.py` requests exactly the days a poll touched.
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

from spotify_assets.defs.spotify_api.resources import (
    NOBODY_AUTHORIZED,
    SpotifyApiResource,
)
from spotify_assets.lib.listeners import (
    DEFAULT_LISTENER,
    Listener,
    listener_names,
    whose,
)
from spotify_assets.lib.raw_tables import RECENTLY_PLAYED_ITEMS, create_raw_tables
from spotify_assets.lib.recently_played.landing import (
    RESPONSES_FOLDER,
    landed_responses,
    played_at_ms,
)
from spotify_assets.lib.recently_played.polling import poll_everyone
from spotify_assets.lib.spotify_api.client import SpotifyAuthError, SpotifyError
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

RESPONSES_KEY = AssetKey(["spotify_api", "recently_played_responses"])
ITEMS_KEY = AssetKey(["raw", "recently_played_items"])
GAP_CHECK = "no_plays_lost"
EVERY_LISTENER_CHECK = "every_listener_polled"
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
    check_specs=[
        AssetCheckSpec(GAP_CHECK, asset=RESPONSES_KEY, description=(
            "Fails when a poll in the last 7 days returned a full page of 50 plays all newer than the previous "
            "cursor: Spotify keeps only the last 50, so the plays in between were probably lost.")),
        AssetCheckSpec(EVERY_LISTENER_CHECK, asset=RESPONSES_KEY, description=(
            "Warns when a listener with an authorization could not be polled (Spotify refused its authorization, or "
            "kept failing), naming the listener and why; the other listeners' answers landed."))],
    description="Raw recently-played answers in each listener's landing/recently_played/, one per listener and poll, "
    "unchanged. One run polls every listener at once.",
)
def recently_played_responses(context: AssetExecutionContext, spotify_settings: SpotifySettings,
                              spotify_api: SpotifyApiResource):
    targets, unauthorized = spotify_api.authorized_listeners(spotify_settings)
    if not targets:
        raise SpotifyAuthError(NOBODY_AUTHORIZED)
    outcomes = poll_everyone(
        targets, spotify_api.api_base_url or spotify_settings.setting("spotify_api_base_url"),
        spotify_api.accounts_base_url or spotify_settings.setting("spotify_accounts_base_url"),
        spotify_api.retry_policy, spotify_settings.setting("poll_concurrency"))
    landed = [outcome for outcome in outcomes if outcome.landed]
    failed = [outcome for outcome in outcomes if not outcome.landed]
    if not landed:  # nobody could be polled: the run fails, saying why
        reasons = "; ".join(whose(o.listener, o.problem) for o in failed)
        raise (SpotifyAuthError if all(o.needs_authorization for o in failed) else SpotifyError)(reasons)
    for outcome in landed:
        if outcome.listener == DEFAULT_LISTENER:
            cursor = _iso(outcome.cursor_ms) or "nothing (first poll)"
            context.log.info(f"Landed {outcome.landed.items} plays newer than {cursor} as {outcome.landed.path.name}.")
        else:  # without times: the landed file's name says when its plays were
            context.log.info(f"listener {outcome.listener}: landed {outcome.landed.items} plays.")
    for outcome in failed:
        hint = f" (`spotify-assets auth --listener {outcome.listener}`)" if outcome.needs_authorization else ""
        context.log.warning(f"listener {outcome.listener} was not polled: {outcome.problem}{hint}")

    now_ms = int(time.time() * 1000)
    recent = [(outcome.listener, gap) for outcome in outcomes for gap in outcome.gaps
              if now_ms - gap.detected_at_ms <= RECENT_GAPS.total_seconds() * 1000]
    touched = sorted({day.isoformat() for outcome in landed for day in outcome.landed.days})
    own = next((o for o in outcomes if o.listener == DEFAULT_LISTENER), None)  # the single listener's figures
    yield MaterializeResult(
        asset_key=RESPONSES_KEY,
        metadata={
            "plays_received": sum(o.landed.items for o in landed),
            "cursor_before": _iso(own.cursor_ms) or "none" if own else "none",
            "newest_play": _iso(own.landed.newest_ms) if own and own.landed and own.landed.items else "none",
            "touched_days": MetadataValue.json(touched),
            "response_file": own.landed.path.name if own and own.landed else "none",
            "listeners_polled": len(landed),
            "listeners_not_polled": MetadataValue.json(sorted(o.listener for o in failed)),
            "listeners_without_authorization": MetadataValue.json(unauthorized),
            "requests": sum(o.requests for o in outcomes),
            # Counts only: when a listener listened is its own, even in the installation's run metadata (the default
            # listener's figures above are the single-listener setup's own).
            "plays_by_listener": MetadataValue.json({o.listener: o.landed.items for o in landed}),
        },
    )
    yield AssetCheckResult(
        asset_key=RESPONSES_KEY,
        check_name=GAP_CHECK,
        passed=not recent,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(_gap(name, g) for name, g in recent)
        or "Every poll in the last 7 days joined up with the one before.",
        metadata={"gaps_last_7_days": len(recent),
                  "windows": MetadataValue.json([{"after": _iso(g.after_ms), "before": _iso(g.before_ms)}
                                                 if name == DEFAULT_LISTENER else {"listener": name}
                                                 for name, g in recent])},
    )
    yield AssetCheckResult(
        asset_key=RESPONSES_KEY,
        check_name=EVERY_LISTENER_CHECK,
        passed=not failed,
        severity=AssetCheckSeverity.WARN,
        description="; ".join(f"{o.listener}: {o.problem}" for o in failed) or f"All {len(landed)} polled.",
        metadata={"not_polled": MetadataValue.json(sorted(o.listener for o in failed)),
                  "needs_authorization": MetadataValue.json(sorted(o.listener for o in failed if o.needs_authorization))},
    )


def _gap(listener: str, gap) -> str:
    """A gap as the single listener always read it; another listener's without its times (when a listener listened is
    its own, even in the installation's run)."""
    if listener == DEFAULT_LISTENER:
        return gap.describe()
    return f"listener {listener}: a poll came back full, all newer than the one before: plays were probably lost"


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
    description="One row per recently-played item, rebuilt for each UTC day from every listener's responses in landing.",
)
def recently_played_items(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    days = {date.fromisoformat(key) for key in context.partition_keys}
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows, unreadable, responses = [], 0, 0
    for name in listener_names(spotify_settings.data_path):
        directory = Listener(name, spotify_settings.data_path).landing_path / RESPONSES_FOLDER
        for response in landed_responses(directory):
            if any(response.covers(d) for d in days):
                response_rows, response_unreadable = _item_rows(response.path, days, loaded_at, name)
                rows += response_rows
                unreadable += response_unreadable
                responses += 1
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute("DELETE FROM raw.recently_played_items WHERE cast(played_at AS DATE) IN "
                               "(SELECT unnest(?::DATE[]))", [sorted(days)])
            RECENTLY_PLAYED_ITEMS.insert(connection, rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    if unreadable:
        context.log.warning(f"{unreadable} items without a readable played_at were skipped (they stay in landing).")
    return MaterializeResult(metadata={"dagster/row_count": len(rows), "responses_read": responses,
                                       "items_unreadable": unreadable, "days": len(days)})
