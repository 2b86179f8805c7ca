"""The inbox sensor: an export dropped into the inbox lands, becomes a partition, and is imported.

The cursor remembers each inbox entry's size and modification time with its hash, so an unchanged
inbox costs a directory listing, not a re-hash of every zip. Run keys are the content hash: an
export dropped twice (or renamed) is requested once, and an export already imported (by
`spotify-assets import` or the demo, which never told this sensor's cursor) is not imported again, unless a
newer parser reads more of it. An import that failed is tried again (IMPORT_ATTEMPTS runs in all).
Entries still being written are left for the next tick, and so are entries that look unfinished (a zip without
its directory) until they have not changed for STALLED_SECONDS. An entry that cannot be read (a dangling link, a
pipe, a file deleted meanwhile) is skipped and said once; the others go on.
"""

import json
import os
import time
import zipfile
from pathlib import Path
from stat import S_ISREG

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY, outdated_imports
from spotify_assets.defs.jobs import import_spotify_export_job
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.lib.exports.landing import (
    is_candidate,
    load_landed_export,
    receive_export,
)
from spotify_assets.lib.raw_tables import PARSER_VERSION
from spotify_assets.settings import SpotifySettings

SETTLE_SECONDS = 10  # an entry modified more recently may still be downloading
# An entry that looks unfinished (a zip without its directory, a JSON array without its end) waits this long after
# its last change before it lands as it is (then as a partial export, saying so).
STALLED_SECONDS = 15 * 60
# An export whose import failed is tried again at most this many times (new data in the inbox starts over).
IMPORT_ATTEMPTS = 3


def _signature(entry: Path) -> tuple[int, int]:
    """(total size, newest modification time in ns) of a file or of every regular file in a folder."""
    if entry.is_file():
        stats = [entry.stat()]
    else:
        stats = [(Path(directory) / name).lstat() for directory, _, names in os.walk(entry) for name in names]
        stats = [stat for stat in stats if S_ISREG(stat.st_mode)]
    return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)


def looks_finished(entry: Path) -> bool:
    """A zip with its central directory (written last), a JSON array with its closing bracket; a folder whose zips
    and JSON files all look so."""
    if entry.is_dir():
        return all(looks_finished(Path(directory) / name) for directory, _, names in os.walk(entry) for name in names
                   if name.lower().endswith((".zip", ".json")) and (Path(directory) / name).is_file())
    name = entry.name.lower()
    if name.endswith(".zip"):
        return zipfile.is_zipfile(entry)
    if name.endswith(".json"):
        with entry.open("rb") as handle:
            handle.seek(max(0, entry.stat().st_size - 64))
            return handle.read().rstrip().endswith((b"]", b"}"))
    return True


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
    instance = context.instance
    known_partitions = set(instance.get_dynamic_partitions(spotify_export_partitions.name))
    imported = instance.get_materialized_partitions(EXPORT_FILES_KEY)
    for entry in sorted(inbox.iterdir()):
        if not is_candidate(entry):
            continue
        previous = seen.get(entry.name)
        # One odd entry (a dangling link, a pipe, a file deleted meanwhile) is skipped and said once; the rest go on.
        try:
            if not (entry.is_file() or entry.is_dir()):
                raise OSError("not a file or a folder (a pipe, a device or a dangling link)")
            size, modified_ns = _signature(entry)
            if previous and previous[:2] == [size, modified_ns]:
                cursor[entry.name] = previous
                if len(previous) > 2 and previous[2] not in imported:
                    run_requests += _retry(instance, previous[2], entry.name)
                continue
            age = now_ns - modified_ns
            if age < SETTLE_SECONDS * 1_000_000_000:
                context.log.info(f"{entry.name} changed in the last {SETTLE_SECONDS} s; waiting for it to settle.")
                continue
            if not looks_finished(entry):
                if age < STALLED_SECONDS * 1_000_000_000:
                    context.log.info(f"{entry.name} looks unfinished (still being copied?); waiting for it.")
                    continue
                context.log.warning(f"{entry.name} looks unfinished but has not changed for {STALLED_SECONDS // 60} "
                                    "minutes: importing what it holds.")
            landed = receive_export(entry, spotify_settings.exports_landing_path)
        except OSError as error:
            reason = str(error) if not getattr(error, "strerror", None) else error.strerror
            if previous != [-1, -1, reason]:
                context.log.warning(f"{entry.name} skipped: {reason}")
            cursor[entry.name] = [-1, -1, reason]
            continue
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
    for export_hash in outdated_imports(instance):
        directory = spotify_settings.exports_landing_path / export_hash
        if (directory / "receipt.json").exists():
            run_requests.append(RunRequest(run_key=f"{export_hash}:parser-{PARSER_VERSION}", partition_key=export_hash,
                                           tags={"spotify/export": load_landed_export(directory).name}))
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[spotify_export_partitions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(cursor, sort_keys=True),
    )


def _retry(instance, export_hash: str, name: str) -> list[RunRequest]:
    """An import that failed (the warehouse was busy, the process was killed) is requested again, up to
    IMPORT_ATTEMPTS runs in all, unless one is queued or running."""
    runs = instance.get_runs(filters=RunsFilter(job_name=import_spotify_export_job.name,
                                                tags={"dagster/partition": export_hash}))
    if not runs or any(not run.is_finished or run.is_success for run in runs) or len(runs) >= IMPORT_ATTEMPTS:
        return []
    return [RunRequest(run_key=f"{export_hash}:attempt-{len(runs) + 1}", partition_key=export_hash,
                       tags={"spotify/export": name})]
