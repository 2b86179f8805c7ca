"""The inbox sensor: an export dropped into the inbox lands, becomes a partition, and is imported.

The cursor remembers each inbox entry's size and modification time with its hash, so an unchanged
inbox costs a directory listing, not a re-hash of every zip. Run keys are the content hash: an
export dropped twice (or renamed) is requested once, and an export already imported (by
`spotify-assets import` or the demo, which never told this sensor's cursor) is not imported again, unless a
newer parser reads more of it.
Entries still being written are left for the next tick.
"""

import json
import time
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, sensor

from ..partitions import spotify_export_partitions
from ..settings import SpotifySettings
from ..jobs import import_spotify_export_job
from ..raw_tables import PARSER_VERSION
from .assets import EXPORT_FILES_KEY, outdated_imports
from .landing import is_candidate, load_landed_export, receive_export

SETTLE_SECONDS = 10  # an entry modified more recently may still be downloading


def _signature(entry: Path) -> tuple[int, int]:
    """(total size, newest modification time in ns) of a file or of every file in a folder."""
    files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
    stats = [f.stat() for f in files]
    return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)


@sensor(
    job=import_spotify_export_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches SPOTIFY_INBOX; each new zip, folder or JSON file is copied into landing under its "
    "sha256, added as a partition of the import asset and imported.",
)
def spotify_inbox_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings) -> SensorResult:
    inbox = spotify_settings.inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    now_ns = time.time_ns()
    cursor: dict[str, list] = {}
    run_requests, new_partitions = [], []
    known_partitions = set(context.instance.get_dynamic_partitions(spotify_export_partitions.name))
    imported = context.instance.get_materialized_partitions(EXPORT_FILES_KEY)
    for entry in sorted(inbox.iterdir()):
        if not is_candidate(entry):
            continue
        size, modified_ns = _signature(entry)
        previous = seen.get(entry.name)
        if previous and previous[:2] == [size, modified_ns]:
            cursor[entry.name] = previous
            continue
        if now_ns - modified_ns < SETTLE_SECONDS * 1_000_000_000:
            context.log.info(f"{entry.name} changed in the last {SETTLE_SECONDS} s; waiting for it to settle.")
            continue
        landed = receive_export(entry, spotify_settings.exports_landing_path)
        cursor[entry.name] = [size, modified_ns, landed.export_hash]
        context.log.info(f"{entry.name} landed as export {landed.export_hash[:12]}.")
        if landed.export_hash in imported:
            context.log.info(f"{entry.name} (export {landed.export_hash[:12]}) is already imported.")
            continue
        if landed.export_hash not in known_partitions:
            new_partitions.append(landed.export_hash)
            known_partitions.add(landed.export_hash)
        run_requests.append(RunRequest(run_key=landed.export_hash, partition_key=landed.export_hash,
                                       tags={"spotify/export": landed.name}))
    # Exports a newer parser reads more of are imported again, once per parser version.
    for export_hash in outdated_imports(context.instance):
        directory = spotify_settings.exports_landing_path / export_hash
        if (directory / "receipt.json").exists():
            run_requests.append(RunRequest(run_key=f"{export_hash}:parser-{PARSER_VERSION}", partition_key=export_hash,
                                           tags={"spotify/export": load_landed_export(directory).name}))
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[spotify_export_partitions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(cursor, sort_keys=True),
    )
