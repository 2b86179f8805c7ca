"""A catalog file the listener supplies: a CSV or Parquet of tracks with audio features (the public Kaggle Spotify
tracks datasets and their kin), landed byte for byte and read into raw.catalog_file_tracks (counting rules, section 11).

Columns are found by name, in any case, under the names those datasets use (`track_id` or `id`, `track_name` or
`name`, `artists` or `artist_name`, `isrc`, `album_name`, and the features). `artists` may be one name, names joined
by ';', or a Python-style list (`['A', 'B']`); the first is the track's artist. A row is quarantined, with every reason
and the row itself, when it has no track name or no artist, or when a feature is not a number or is out of its range;
an empty feature is unknown, not an error. DuckDB reads the file in a streaming scan, so memory stays bounded whatever
its size.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# Each feature's plausible range, inclusive (Spotify's documented ranges; loudness in dB).
FEATURE_RANGES = {
    "danceability": (0.0, 1.0), "energy": (0.0, 1.0), "valence": (0.0, 1.0), "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0), "speechiness": (0.0, 1.0), "liveness": (0.0, 1.0), "tempo": (0.0, 300.0),
    "loudness": (-60.0, 5.0), "duration_ms": (1.0, 24 * 3600 * 1000.0),
}
# The names each column goes by in the files people have, first match wins.
ALIASES = {
    "track_id": ("track_id", "id", "spotify_id", "spotify_track_id", "track_uri", "uri"),
    "track_name": ("track_name", "name", "track", "title", "song"),
    "artists": ("artists", "artist_name", "artist", "artists_name", "artist_names"),
    "isrc": ("isrc",),
    "album_name": ("album_name", "album"),
    **{feature: (feature,) for feature in FEATURE_RANGES},
}
SUFFIXES = (".csv", ".parquet", ".tsv", ".csv.gz")


class CatalogFileError(Exception):
    """The file cannot be read as a catalog at all (no name or artist column, not CSV or Parquet)."""


@dataclass(frozen=True)
class LandedCatalogFile:
    file_hash: str
    name: str
    path: Path


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def landed_catalog_files(landing_path: Path) -> list[LandedCatalogFile]:
    root = landing_path / "catalog_files"
    files = []
    for folder in sorted(root.iterdir()) if root.exists() else []:
        payload = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() and len(folder.name) == 64 else []
        if len(payload) == 1:
            files.append(LandedCatalogFile(folder.name, payload[0].name, payload[0]))
    return files


def land_catalog_file(source: Path, landing_path: Path) -> LandedCatalogFile:
    """Copy the file into landing/catalog_files/<sha256>/ (the same content lands once, under any name)."""
    if not source.is_file():
        raise CatalogFileError(f"{source}: not a file")
    if not source.name.lower().endswith(SUFFIXES):
        raise CatalogFileError(f"{source.name}: a catalog file is a .csv, .tsv, .csv.gz or .parquet file")
    file_hash = _digest(source)
    folder = landing_path / "catalog_files" / file_hash
    if folder.is_dir():
        existing = [p for p in folder.iterdir() if p.is_file()]
        if existing:
            return LandedCatalogFile(file_hash, existing[0].name, existing[0])
    temporary = folder.with_name(f".incoming-{file_hash[:12]}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    shutil.copyfile(source, temporary / source.name)
    temporary.rename(folder)
    return LandedCatalogFile(file_hash, source.name, folder / source.name)


def _scan(landed: LandedCatalogFile) -> str:
    path = str(landed.path).replace("'", "''")
    if landed.name.lower().endswith(".parquet"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', all_varchar = true, header = true, sample_size = 20480)"


def _columns(connection, scan: str) -> dict[str, str]:
    """Each wanted column mapped to the file's own column name."""
    present = {row[0].lower(): row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    found = {}
    for wanted, names in ALIASES.items():
        name = next((present[n] for n in names if n in present), None)
        if name is not None:
            found[wanted] = name
    if "track_name" not in found or "artists" not in found:
        raise CatalogFileError(f"{sorted(present)[:12]}: no column for the track name (track_name, name) and the "
                               "artist (artists, artist_name)")
    return found


def read_catalog_file(connection, landed: LandedCatalogFile) -> tuple[int, int]:
    """Replace the file's rows in raw.catalog_file_tracks and raw.catalog_file_quarantine in one transaction;
    returns (rows accepted, rows quarantined)."""
    scan = _scan(landed)
    try:
        columns = _columns(connection, scan)
    except CatalogFileError:
        raise
    except Exception as error:  # DuckDB could not read it as CSV or Parquet at all
        raise CatalogFileError(f"{landed.name}: not readable as CSV or Parquet ({str(error).splitlines()[0][:200]})") \
            from None

    def text(wanted: str) -> str:
        return f'nullif(trim(cast("{columns[wanted]}" as varchar)), \'\')' if wanted in columns else "cast(null as varchar)"

    features = [f for f in FEATURE_RANGES if f in columns]
    reasons = [f"case when {text('track_name')} is null then 'no track name' end",
               f"case when {text('artists')} is null then 'no artist' end"]
    for feature in features:
        low, high = FEATURE_RANGES[feature]
        reasons.append(f"case when {text(feature)} is not null and try_cast({text(feature)} as double) is null "
                       f"then '{feature} is not a number' "
                       f"when not isfinite(try_cast({text(feature)} as double)) "
                       f"or try_cast({text(feature)} as double) not between {low} and {high} "
                       f"then '{feature} ' || {text(feature)} || ' is outside {low:g}..{high:g}' end")
    first_artist = (f"case when starts_with({text('artists')}, '[') then "
                    f"nullif(trim(regexp_extract({text('artists')}, '^\\[\\s*[''\"](.*?)[''\"]\\s*[,\\]]', 1)), '') "
                    f"else nullif(trim(split_part({text('artists')}, ';', 1)), '') end")
    track_id = f"regexp_replace({text('track_id')}, '^spotify:track:', '')"
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute("DELETE FROM raw.catalog_file_tracks WHERE file_hash = ?", [landed.file_hash])
        connection.execute("DELETE FROM raw.catalog_file_quarantine WHERE file_hash = ?", [landed.file_hash])
        connection.execute(f"""
            CREATE OR REPLACE TEMP TABLE catalog_rows AS
            SELECT row_number() OVER () - 1 AS row_index, *,
                   concat_ws('; ', {', '.join(reasons)}) AS reason
            FROM {scan}""")
        connection.execute(f"""
            INSERT INTO raw.catalog_file_tracks
            SELECT ?, row_index, {track_id}, upper({text('isrc')}), {text('track_name')}, {first_artist},
                   {text('artists')}, {text('album_name')},
                   {', '.join(f'try_cast({text(f)} as double)' if f in columns else 'cast(null as double)'
                              for f in FEATURE_RANGES)}, ?
            FROM catalog_rows WHERE reason = ''""", [landed.file_hash, loaded_at])
        connection.execute("""
            INSERT INTO raw.catalog_file_quarantine
            SELECT ?, row_index, reason, to_json(catalog_rows)::VARCHAR
            FROM catalog_rows WHERE reason <> ''""", [landed.file_hash])
        accepted, quarantined = connection.execute(
            "SELECT count(*) FILTER (WHERE reason = ''), count(*) FILTER (WHERE reason <> '') FROM catalog_rows"
        ).fetchall()[0]
        connection.execute("DELETE FROM raw.catalog_files WHERE file_hash = ?", [landed.file_hash])
        connection.execute("INSERT INTO raw.catalog_files VALUES (?, ?, ?, ?, ?)",
                           [landed.file_hash, landed.name, accepted, quarantined, loaded_at])
        connection.execute("DROP TABLE catalog_rows")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return int(accepted), int(quarantined)


def quarantined_lines(connection, file_hash: str, limit: int = 5) -> list[str]:
    """One line per quarantined row (the first `limit`): the file's row number and its reasons."""
    return [f"row {row_index + 2}: {reason}" for row_index, reason in connection.execute(
        "SELECT row_index, reason FROM raw.catalog_file_quarantine WHERE file_hash = ? ORDER BY row_index LIMIT ?",
        [file_hash, limit]).fetchall()]

