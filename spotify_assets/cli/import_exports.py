"""`spotify-assets import PATH...`: land each export, import it as its partition, then bring the warehouse up to
date as the daemon would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import (
    CommandFailed,
    failure_reason,
    run_job,
    update_warehouse,
)
from spotify_assets.settings import SpotifySettings


@dataclass
class ImportOutcome:
    """What became of the paths given to `spotify-assets import`: one failing never stops the next."""

    without_history: list[str] = field(default_factory=list)  # landed, but no plays in them
    failed: list[str] = field(default_factory=list)  # one line each: what went wrong

    def failure(self) -> CommandFailed | None:
        problems = list(self.failed)
        if self.without_history:
            problems.append(f"{', '.join(self.without_history)}: no Spotify listening history found (kept in landing, "
                            "no plays added); give the export's zip, its folder, or its StreamingHistory/endsong "
                            "JSON files")
        return CommandFailed("; ".join(problems)) if problems else None


def import_paths(paths: list[Path], settings: SpotifySettings) -> ImportOutcome:
    """Land each export, import it as its partition, then build the warehouse from everything that landed. A path
    that cannot be landed or imported is reported and the next one goes on."""
    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY
    from spotify_assets.defs.partitions import spotify_export_partitions
    from spotify_assets.instance.home import get_instance
    from spotify_assets.lib.exports.landing import receive_export

    prepare_dbt_manifest(settings)
    instance = get_instance(settings)
    import_pending(settings)
    outcome, imported = ImportOutcome(), 0
    for path in paths:
        try:
            landed = receive_export(path, settings.exports_landing_path)
        except OSError as error:  # not a file or folder, unreadable, a disk that is full: said, and the next goes on
            outcome.failed.append(str(error) if not error.strerror else f"{path}: {error.strerror}")
            continue
        if not instance.has_dynamic_partition(spotify_export_partitions.name, landed.export_hash):
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        print(f"importing {path.name} (export {landed.export_hash[:12]})", flush=True)
        result = run_job(settings, "import_spotify_export_job", partition_key=landed.export_hash,
                         tags={"spotify/export": landed.name})
        if not result.success:
            outcome.failed.append(f"import of {path.name} failed ({failure_reason(result)}); see run {result.run_id} "
                                  "in the Dagster UI")
            continue
        metadata = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                        if event.asset_key == EXPORT_FILES_KEY)
        if metadata["history_files"].value or metadata["files_unreadable"].value or metadata["files_unrecognised"].value:
            imported += 1
        else:
            outcome.without_history.append(path.name)
    if imported:
        update_warehouse(settings)
    return outcome


def import_pending(settings: SpotifySettings) -> None:
    """Exports in landing that were never imported (an import that failed or was killed) or were imported by an older
    parser (a newer one reads more of them) are imported now."""
    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY, outdated_imports
    from spotify_assets.defs.partitions import spotify_export_partitions
    from spotify_assets.instance.home import get_instance
    from spotify_assets.lib.exports.landing import landed_exports

    instance = get_instance(settings)
    outdated = set(outdated_imports(instance))
    imported = instance.get_materialized_partitions(EXPORT_FILES_KEY)
    for landed in landed_exports(settings.exports_landing_path):
        if landed.export_hash in imported and landed.export_hash not in outdated:
            continue
        if not instance.has_dynamic_partition(spotify_export_partitions.name, landed.export_hash):
            instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        why = "this version reads more of it" if landed.export_hash in outdated else "it had not been imported"
        print(f"importing {landed.name} (export {landed.export_hash[:12]}): {why}", flush=True)
        result = run_job(settings, "import_spotify_export_job", partition_key=landed.export_hash,
                         tags={"spotify/export": landed.name})
        if not result.success:
            raise CommandFailed(f"import of {landed.name} failed ({failure_reason(result)}); see run {result.run_id} "
                                "in the Dagster UI")
