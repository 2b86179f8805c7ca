"""`spotify-assets import PATH...`: land each export (as the inbox sensor lands what is dropped into the inbox), then
do what the daemon would: the landed-exports sensor's imports, then the warehouse update sensor's build.

An export whose content was imported before (the same bytes, under any name or path) is not imported again and says
so; `--force` imports it again. An export whose import failed IMPORT_ATTEMPTS times is not tried again without
`--force`, and one that fails never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import (
    COMMAND_TAG,
    Launched,
    failure_reason,
    follow,
    run_job,
    update_warehouse,
)
from spotify_assets.settings import SpotifySettings


@dataclass
class ImportOutcome:
    """What became of the paths given to `spotify-assets import`: one failing never stops the next."""

    launched: Launched = field(default_factory=Launched)
    without_history: list[str] = field(default_factory=list)  # landed, but no plays in them
    failed: list[str] = field(default_factory=list)  # one line each: what went wrong

    @property
    def changed(self) -> bool:
        return bool(self.launched.results)

    def failure(self) -> CommandFailed | None:
        problems = self.failed + self.launched.failures
        if self.without_history:
            problems.append(f"{', '.join(self.without_history)}: no Spotify listening history found (kept in landing, "
                            "no plays added); give the export's zip, its folder, or its StreamingHistory/endsong "
                            "JSON files")
        return CommandFailed("; ".join(problems)) if problems else None


def describer(given: set[str]):
    """How a command announces an import the landed-exports sensor asked for; `given`: the exports named on the
    command line, which need no reason."""
    def describe(job_name: str, request) -> str:
        export = request.tags.get("spotify/export", request.partition_key)
        why = ""
        if ":parser-" in (request.run_key or ""):
            why = ": this version reads more of it"
        elif ":attempt-" in (request.run_key or ""):
            why = f": attempt {request.run_key.rsplit('-', 1)[-1]} (the last one failed)"
        elif request.partition_key not in given:
            why = ": it had landed but was not imported"
        return f"importing {export} (export {request.partition_key[:12]}){why}"
    return describe


def import_paths(paths: list[Path], settings: SpotifySettings, force: bool = False) -> ImportOutcome:
    """Land each export, import what the landed-exports sensor requests (these exports and any landed before but not
    imported yet), then bring the warehouse up to date. A path that cannot be landed is reported and the next one goes
    on."""
    from spotify_assets.defs.exports.assets import imported_exports, outdated_imports
    from spotify_assets.defs.exports.sensors import IMPORT_ATTEMPTS, import_attempts
    from spotify_assets.defs.partitions import spotify_export_partitions
    from spotify_assets.instance.home import get_instance
    from spotify_assets.lib.exports.landing import receive_export

    instance = get_instance(settings)
    outcome = ImportOutcome()
    ours: dict[str, str] = {}  # export hash -> the name it was given as here
    forced = []
    for path in paths:
        try:
            landed = receive_export(path, settings.exports_landing_path)
        except OSError as error:  # not a file or folder, unreadable, a disk that is full: said, and the next goes on
            outcome.failed.append(str(error) if not error.strerror else f"{path}: {error.strerror}")
            continue
        if landed.export_hash in ours:
            continue
        ours[landed.export_hash] = path.name
        attempts = import_attempts(instance, landed.export_hash, imported_exports(instance),
                                   set(outdated_imports(instance)))
        if force:
            forced.append(landed)
        elif attempts.imported:
            terminal.say(f"{path.name}: already imported (same content as {landed.name}, "
                         f"{_imported_on(instance, landed.export_hash)}); `--force` imports it again")
        elif attempts.given_up:
            last = attempts.failed_since_success[0]
            outcome.failed.append(f"{path.name}: its import failed {len(attempts.failed_since_success)} times (the "
                                  f"daemon gives up after {IMPORT_ATTEMPTS}; last: run {last.run_id}); "
                                  f"`spotify-assets import --force {path}` tries again")
    prepare_dbt_manifest(settings)
    for landed in forced:
        if not instance.has_dynamic_partition(spotify_export_partitions.name, landed.export_hash):
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        terminal.say(f"importing {ours[landed.export_hash]} (export {landed.export_hash[:12]}) again: --force")
        result = run_job(settings, "import_spotify_export_job", partition_key=landed.export_hash,
                         run_config={"ops": {"import_spotify_export": {"config": {"reimport": True}}}},
                         tags={"spotify/export": landed.name, COMMAND_TAG: "import", "spotify/forced": "true"})
        outcome.launched.results.append(result)
        if not result.success:
            outcome.launched.failures.append(f"the import of {landed.name} failed ({failure_reason(result)}); see run "
                                             f"{result.run_id} in the Dagster UI")
    outcome.launched += import_pending(settings, "import", given=set(ours)).launched
    for export_hash, name in ours.items():
        if _without_history(instance, export_hash):
            outcome.without_history.append(name)
    if any(result.success for result in outcome.launched.results) or not outcome.launched.failures:
        try:
            outcome.launched += update_warehouse(settings, "import")
        except CommandFailed as error:
            outcome.failed.append(str(error))
    return outcome


def import_pending(settings: SpotifySettings, command: str = "build", given: frozenset[str] = frozenset()) \
        -> ImportOutcome:
    """What the landed-exports sensor requests: every landed export never imported (an import that failed or was
    stopped, an export landed by the inbox sensor) or imported by an older parser (a newer one reads more of it)."""
    prepare_dbt_manifest(settings)
    outcome = ImportOutcome()
    outcome.launched = follow(settings, ["landed_exports_sensor"], command, describe=describer(set(given)))
    return outcome


def _imported_on(instance, export_hash: str) -> str:
    from dagster import AssetRecordsFilter

    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=EXPORT_FILES_KEY, asset_partitions=[export_hash]), limit=1).records
    return datetime.fromtimestamp(records[0].timestamp).strftime("%Y-%m-%d %H:%M") if records else "earlier"


def _without_history(instance, export_hash: str) -> bool:
    """The export's newest import found no listening history in it (nothing read, nothing unreadable)."""
    from dagster import AssetRecordsFilter

    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY

    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=EXPORT_FILES_KEY, asset_partitions=[export_hash]), limit=1).records
    if not records:
        return False
    metadata = records[0].asset_materialization.metadata
    return not (metadata["history_files"].value or metadata["files_unreadable"].value
                or metadata["files_unrecognised"].value)
