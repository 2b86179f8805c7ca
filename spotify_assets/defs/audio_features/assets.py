"""Audio features (counting rules, section 11) from two sources. A catalog file of tracks with features:
`spotify-assets catalog import FILE` lands it (lib/audio_features/catalog_file.py), and `catalog_files_sensor`
(sensor.py) asks for `raw/catalog_file_tracks`, which reads every landed file not read yet into raw.catalog_file_tracks,
its bad rows into raw.catalog_file_quarantine. ReccoBeats: `reccobeats/audio_features` asks it about the most
streamed tracks not asked before (lib/audio_features/reccobeats.py), `raw/reccobeats_audio_features` loads the answers;
`reccobeats_schedule` (sensor.py) runs both daily once `reccobeats_lookups_per_run` is set above 0."""

from datetime import datetime, timezone

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from spotify_assets.lib.audio_features.catalog_file import (
    CatalogFileError,
    landed_catalog_files,
    quarantined_lines,
    read_catalog_file,
)
from spotify_assets.lib.audio_features.reccobeats import (
    FEATURES,
    ReccoBeatsClient,
    asked_ids,
    feature_sets,
    land_answers,
    landed_answers,
)
from spotify_assets.lib.listeners import every_listeners_marts
from spotify_assets.lib.raw_tables import RECCOBEATS_FEATURES, create_raw_tables
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

RAW_CATALOG_FILE_KEY = AssetKey(["raw", "catalog_file_tracks"])
ROWS_CHECK = "every_row_read"


@asset(
    key=RAW_CATALOG_FILE_KEY,
    group_name="enrichment",
    kinds={"duckdb", "python"},
    pool=WAREHOUSE_POOL,
    check_specs=[AssetCheckSpec(ROWS_CHECK, asset=RAW_CATALOG_FILE_KEY, description=(
        "Warns when a catalog file had rows without a name or an artist, or with a feature that is not a number or is "
        "out of its range: they are in raw.catalog_file_quarantine with their reasons."))],
    description="Tracks with audio features from the catalog files in landing/catalog_files/ (CSV or Parquet, such as "
    "the public Kaggle Spotify tracks datasets), one row per track; each file is read once.",
)
def catalog_file_tracks(context, spotify_settings: SpotifySettings):
    landed = landed_catalog_files(spotify_settings.shared_landing_path)
    read, problems, lines = [], [], []
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        done = {h for (h,) in connection.execute("SELECT file_hash FROM raw.catalog_files").fetchall()}
        for file in landed:
            if file.file_hash in done:
                continue
            try:
                accepted, quarantined = read_catalog_file(connection, file)
            except CatalogFileError as error:
                problems.append(f"{file.name}: {error}")
                continue
            read.append({"file": file.name, "rows": accepted, "quarantined": quarantined})
            lines += [f"{file.name}, {line}" for line in quarantined_lines(connection, file.file_hash)]
        totals = connection.execute("SELECT count(*) FROM raw.catalog_file_tracks").fetchall()[0][0]
        quarantined_total = connection.execute("SELECT count(*) FROM raw.catalog_file_quarantine").fetchall()[0][0]
    for line in problems + lines:
        context.log.warning(line)
    yield MaterializeResult(metadata={
        "files_read": MetadataValue.json(read), "unreadable_files": MetadataValue.json(problems),
        "file_hashes": MetadataValue.json(sorted(f.file_hash for f in landed)),
        "dagster/row_count": totals, "rows_quarantined": quarantined_total,
    })
    bad = sum(item["quarantined"] for item in read)
    yield AssetCheckResult(
        check_name=ROWS_CHECK, passed=not bad and not problems, severity=AssetCheckSeverity.WARN,
        description="; ".join(problems + lines[:5]) or "Every row of the files read was a track with plausible features.",
        metadata={"rows_quarantined": bad, "unreadable_files": len(problems)})


RECCOBEATS_KEY = AssetKey(["reccobeats", "audio_features"])
RAW_RECCOBEATS_KEY = AssetKey(["raw", "reccobeats_audio_features"])


def reccobeats_candidates(settings: SpotifySettings) -> list[str]:
    """Spotify ids of streamed tracks ReccoBeats was not asked about, most streamed first over every listener (from
    the published marts, which no writer locks)."""
    connection = every_listeners_marts(settings.data_path)
    if connection is None:
        return []
    asked = asked_ids(settings.shared_landing_path / "reccobeats")
    with connection:
        rows = connection.execute("""
            SELECT split_part(track_uri, ':', 3) AS track_id FROM marts.fct_plays
            WHERE track_uri LIKE 'spotify:track:%'
            GROUP BY 1 HAVING count_if(is_stream) > 0
            ORDER BY count_if(is_stream) DESC, track_id""").fetchall()
    return [track_id for (track_id,) in rows if track_id not in asked]


@asset(
    key=RECCOBEATS_KEY,
    group_name="enrichment",
    kinds={"python"},
    description="Audio features from ReccoBeats (GET /v1/audio-features, 40 ids a call) for the most streamed tracks "
    "not asked before, `reccobeats_lookups_per_run` a run; answers unchanged in landing/reccobeats/.",
)
def reccobeats_audio_features(context, spotify_settings: SpotifySettings) -> MaterializeResult:
    candidates = reccobeats_candidates(spotify_settings)
    chosen = candidates[:spotify_settings.reccobeats_lookups]
    with ReccoBeatsClient(spotify_settings.setting("reccobeats_api_base_url")) as client:
        received = land_answers(client, spotify_settings.shared_landing_path / "reccobeats", chosen) if chosen else 0
        requests = client.requests_made
    return MaterializeResult(metadata={"looked_up": len(chosen), "found": received, "requests": requests,
                                       "still_to_look_up": len(candidates) - len(chosen)})


@asset(
    key=RAW_RECCOBEATS_KEY,
    deps=[RECCOBEATS_KEY],
    group_name="enrichment",
    kinds={"duckdb", "python"},
    pool=WAREHOUSE_POOL,
    description="One row per Spotify track ReccoBeats gave audio features for, from landing/reccobeats/.",
)
def raw_reccobeats_audio_features(spotify_settings: SpotifySettings) -> MaterializeResult:
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = []
    for answer, _ in landed_answers(spotify_settings.shared_landing_path / "reccobeats"):
        for features in feature_sets(answer.read_bytes()):
            values = {name: _number(features[name]) for name in FEATURES}
            rows.append(RECCOBEATS_FEATURES.row(spotify_id=features["spotify_id"],
                                                reccobeats_id=str(features["reccobeats_id"] or "") or None,
                                                **values, _landed_file=answer.name, _loaded_at=loaded_at))
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        known = {i for (i,) in connection.execute("SELECT spotify_id FROM raw.reccobeats_audio_features").fetchall()}
        new = [row for row in {row[0]: row for row in rows}.values() if row[0] not in known]
        RECCOBEATS_FEATURES.insert(connection, new)
        total = connection.execute("SELECT count(*) FROM raw.reccobeats_audio_features").fetchall()[0][0]
    return MaterializeResult(metadata={"loaded": len(new), "dagster/row_count": total})


def _number(value) -> float | None:
    """A feature as ReccoBeats sent it; anything that is not a finite number is unknown."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        return None
    return float(value)
