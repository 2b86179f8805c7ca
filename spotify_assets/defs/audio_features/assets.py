"""A catalog file of tracks with audio features (counting rules, section 11): `spotify-assets catalog import FILE`
lands it (lib/audio_features/catalog_file.py), and `catalog_files_sensor` (sensor.py) asks for `raw/catalog_file_tracks`, which
reads every landed file not read yet into raw.catalog_file_tracks, its bad rows into raw.catalog_file_quarantine."""

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
from spotify_assets.lib.raw_tables import create_raw_tables
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
    landed = landed_catalog_files(spotify_settings.landing_path)
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
