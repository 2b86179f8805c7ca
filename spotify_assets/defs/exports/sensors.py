"""The two sensors an export passes: the inbox sensor lands what is dropped into the inbox, and the landed-exports
sensor imports every landed export that is not imported yet. `spotify-assets import` lands the paths it is given the
same way (lib/exports/landing.py) and then evaluates the landed-exports sensor itself, so a command and the daemon
import the same exports with the same run keys and the same limits.

The inbox sensor's cursor remembers each inbox entry's size and modification time with its hash, so an unchanged
inbox costs a directory listing, not a re-hash of every zip. Entries still being written are left for the next tick,
and so are entries that look unfinished (a zip without its directory) until they have not changed for
STALLED_SECONDS. An entry that cannot be read (a dangling link, a pipe, a file deleted meanwhile) is skipped and said
once; the others go on.

The landed-exports sensor keeps no state of its own: the instance's runs and materializations say what is imported.
An export is requested when it was never imported, or imported by an older parser (a newer one reads more of it); an
import that failed is tried again, IMPORT_ATTEMPTS runs in all; one export that keeps failing never holds up the
others.
"""

import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from dagster import (
    DagsterInstance,
    DagsterRun,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from spotify_assets.defs.exports.assets import imported_exports, outdated_imports
from spotify_assets.defs.jobs import (
    CHAIN_SENSOR_INTERVAL_SECONDS,
    import_spotify_export_job,
)
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.instance.recovery import ENDED_TAG, INTERRUPTED, keyed
from spotify_assets.lib.exports.landing import (
    LandedExport,
    is_candidate,
    landed_exports,
    receive_export,
)
from spotify_assets.lib.listeners import DEFAULT_LISTENER, LISTENER_TAG, listener_names
from spotify_assets.lib.raw_tables import PARSER_VERSION
from spotify_assets.settings import SpotifySettings

SETTLE_SECONDS = 10  # an entry modified more recently may still be downloading
# An entry that looks unfinished (a zip without its directory, a JSON array without its end) waits this long after
# its last change before it lands as it is (then as a partial export, saying so).
STALLED_SECONDS = 15 * 60
# An export whose import failed is tried again until this many runs in all have failed (`import --force` tries again).
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
    minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches SPOTIFY_INBOX: each new zip, folder or JSON file is copied into landing under its sha256 "
    "(landed_exports_sensor then imports it).",
)
def spotify_inbox_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings) -> SensorResult:
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    now_ns = time.time_ns()
    cursor: dict[str, list] = {}
    landed_now = []
    # Each listener's inbox lands into that listener's landing; the default listener's entries keep their bare names
    # in the cursor, the others' are prefixed with the listener.
    entries = []
    for name in listener_names(spotify_settings.data_path):
        own = spotify_settings.for_listener(name)
        inbox = own.inbox_path
        inbox.mkdir(parents=True, exist_ok=True)
        entries += [(own, entry, entry.name if name == DEFAULT_LISTENER else f"{name}/{entry.name}")
                    for entry in sorted(inbox.iterdir())]
    for own, entry, seen_as in entries:
        if not is_candidate(entry):
            continue
        previous = seen.get(seen_as)
        # One odd entry (a dangling link, a pipe, a file deleted meanwhile) is skipped and said once; the rest go on.
        try:
            if not (entry.is_file() or entry.is_dir()):
                raise OSError("not a file or a folder (a pipe, a device or a dangling link)")
            size, modified_ns = _signature(entry)
            if previous and previous[:2] == [size, modified_ns]:
                cursor[seen_as] = previous
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
            landed = receive_export(entry, own.exports_landing_path)
        except OSError as error:
            reason = str(error) if not getattr(error, "strerror", None) else error.strerror
            if previous != [-1, -1, reason]:
                context.log.warning(f"{entry.name} skipped: {reason}")
            cursor[seen_as] = [-1, -1, reason]
            continue
        cursor[seen_as] = [size, modified_ns, landed.export_hash]
        if landed.new:
            context.log.info(f"{entry.name} landed as export {landed.export_hash[:12]}.")
            landed_now.append(seen_as)
    return SensorResult(cursor=json.dumps(cursor, sort_keys=True),
                        skip_reason=f"Landed {', '.join(landed_now)} (landed_exports_sensor imports what is new)."
                        if landed_now else "Nothing new in the inbox.")


@dataclass(frozen=True)
class ImportAttempts:
    """What the instance knows of one export's imports."""

    imported: bool  # with the current parser
    outdated: bool  # imported, by an older parser
    removed_before: bool  # imported once, then removed (`exports remove`)
    failed_since_success: list[DagsterRun]  # newest first
    unfinished: bool

    @property
    def given_up(self) -> bool:
        return len(self.failed_since_success) >= IMPORT_ATTEMPTS


def import_attempts(instance: DagsterInstance, export_hash: str, imported: set[str], outdated: set[str]) -> ImportAttempts:
    runs = instance.get_runs(filters=RunsFilter(job_name=import_spotify_export_job.name,
                                                tags={"dagster/partition": export_hash}))  # newest first
    failed = []
    for run in runs:
        if run.is_success:
            break  # attempts count from the last success (an import since removed, or one by an older parser)
        if run.is_finished and run.tags.get(ENDED_TAG) != INTERRUPTED:  # Ctrl-C is no verdict on the export
            failed.append(run)
    return ImportAttempts(export_hash in imported and export_hash not in outdated, export_hash in outdated,
                          any(run.is_success for run in runs) and export_hash not in imported, failed,
                          any(not run.is_finished for run in runs))


def import_request(instance: DagsterInstance, landed: LandedExport, attempts: ImportAttempts,
                   listener: str = DEFAULT_LISTENER) -> RunRequest | None:
    """The run that imports `landed` (an export of `listener`) now, or None (imported, being imported, or given
    up)."""
    if attempts.imported or attempts.unfinished or attempts.given_up:
        return None
    # The first import of an export keys on its hash alone; one landed again after a removal, on when it landed.
    key = landed.export_hash if not attempts.removed_before else f"{landed.export_hash}:landed-{landed.received_at}"
    if attempts.outdated:
        key += f":parser-{PARSER_VERSION}"
    if attempts.failed_since_success:
        key += f":attempt-{len(attempts.failed_since_success) + 1}"
    run_key, tags = keyed(instance, key)
    return RunRequest(run_key=run_key, partition_key=landed.export_hash,
                      tags={"spotify/export": landed.name, LISTENER_TAG: listener, **tags})


def landed_export_requests(instance: DagsterInstance, settings: SpotifySettings) -> SensorResult | SkipReason:
    """Every landed export not imported yet (or imported by an older parser), with the partitions they need."""
    imported = imported_exports(instance)
    outdated = set(outdated_imports(instance))
    known = set(instance.get_dynamic_partitions(spotify_export_partitions.name))
    requests, new_partitions, given_up = [], [], []
    every_listeners = [(name, landed) for name in listener_names(settings.data_path)
                       for landed in landed_exports(settings.for_listener(name).exports_landing_path)]
    for listener, landed in every_listeners:
        if landed.export_hash in imported and landed.export_hash not in outdated:
            continue
        attempts = import_attempts(instance, landed.export_hash, imported, outdated)
        request = import_request(instance, landed, attempts, listener)
        if request is None:
            if attempts.given_up:
                given_up.append(landed.name)
            continue
        if landed.export_hash not in known:
            new_partitions.append(landed.export_hash)
        requests.append(request)
    if not requests:
        return SkipReason("Every landed export is imported" + (
            f", but for {', '.join(f'{name}: its import failed {IMPORT_ATTEMPTS} times' for name in given_up)} "
            "(`spotify-assets import --force` tries again)." if given_up else "."))
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[spotify_export_partitions.build_add_request(new_partitions)] if new_partitions
        else [])


@sensor(
    job=import_spotify_export_job,
    minimum_interval_seconds=CHAIN_SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Imports every landed export not imported yet (or imported by an older parser, which a newer one "
    f"reads more of); a failed import is tried again, {IMPORT_ATTEMPTS} runs in all. `spotify-assets import` "
    "evaluates this sensor too.",
)
def landed_exports_sensor(context: SensorEvaluationContext, spotify_settings: SpotifySettings):
    return landed_export_requests(context.instance, spotify_settings)
