"""`spotify-assets exports list | remove NAME`: what has landed, and taking a wrong one out again."""

from __future__ import annotations

from datetime import datetime

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.runs import (
    COMMAND_TAG,
    failure_reason,
    run_job,
    update_warehouse,
)
from spotify_assets.settings import SpotifySettings


def _import_states(settings: SpotifySettings) -> dict[str, str]:
    """export hash -> what its newest import brought, from the instance (the warehouse may be busy)."""
    from dagster import AssetRecordsFilter

    from spotify_assets.defs.exports.assets import (
        EXPORT_FILES_KEY,
        imported_exports,
        outdated_imports,
    )
    from spotify_assets.defs.exports.sensors import import_attempts
    from spotify_assets.instance.home import get_instance
    from spotify_assets.lib.exports.landing import landed_exports

    instance = get_instance(settings)
    imported = imported_exports(instance)
    outdated = set(outdated_imports(instance))
    states = {}
    for landed in landed_exports(settings.exports_landing_path):
        attempts = import_attempts(instance, landed.export_hash, imported, outdated)
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=EXPORT_FILES_KEY, asset_partitions=[landed.export_hash]), limit=1).records
        if records and not attempts.outdated:
            metadata = records[0].asset_materialization.metadata
            when = datetime.fromtimestamp(records[0].timestamp).strftime("%Y-%m-%d %H:%M")
            files = metadata["history_files"].value
            if not (files or metadata["files_unreadable"].value or metadata["files_unrecognised"].value):
                states[landed.export_hash] = f"imported {when}: no listening history in it"
            else:
                records = metadata["records_accepted"].value
                states[landed.export_hash] = (f"imported {when}: {files} history file{'' if files == 1 else 's'}, "
                                              f"{records:,} record{'' if records == 1 else 's'}")
        elif attempts.unfinished:
            states[landed.export_hash] = "being imported"
        elif attempts.outdated:
            states[landed.export_hash] = "imported by an older version: the next import or build reads it again"
        elif attempts.failed_since_success:
            count = len(attempts.failed_since_success)
            states[landed.export_hash] = f"not imported: failed {count} time{'' if count == 1 else 's'}"
        else:
            states[landed.export_hash] = "not imported yet"
    return states


def list_exports(settings: SpotifySettings) -> None:
    from spotify_assets.lib.exports.landing import landed_exports, removals_under_way

    exports = landed_exports(settings.exports_landing_path)
    if not exports:
        terminal.say("no exports have landed yet: `spotify-assets import PATH` (or drop one into "
                     f"{settings.inbox_path})")
        return
    states = _import_states(settings)
    width = max(len(landed.name) for landed in exports)
    terminal.say(f"{'NAME':<{width}}  {'EXPORT':<12}  {'LANDED':<16}  WHAT IT ADDED")
    for landed in exports:
        terminal.say(f"{landed.name:<{width}}  {landed.export_hash[:12]}  {_landed_at(landed)}  "
                     f"{states[landed.export_hash]}")
    for removed in removals_under_way(settings.exports_landing_path):
        terminal.say(f"{removed.name}: its removal stopped half-way; the next build (or `exports remove`) finishes it")


def _landed_at(landed) -> str:
    import json

    received = json.loads((landed.directory / "receipt.json").read_text()).get("received_at")
    return datetime.fromisoformat(received).astimezone().strftime("%Y-%m-%d %H:%M") if received else "?"


def find_export(settings: SpotifySettings, name: str):
    """The landed export called `name`, or whose content hash starts with it (six characters at least)."""
    from spotify_assets.lib.exports.landing import landed_exports, removals_under_way

    exports = landed_exports(settings.exports_landing_path) + removals_under_way(settings.exports_landing_path)
    matches = [landed for landed in exports if landed.name == name]
    if not matches and len(name) >= 6:
        matches = [landed for landed in exports if landed.export_hash.startswith(name.lower())]
    if not matches:
        known = ", ".join(sorted({landed.name for landed in exports})) or "none"
        raise CommandFailed(f"no landed export is called {name!r} (landed: {known}; `spotify-assets exports list`)")
    if len(matches) > 1:
        raise CommandFailed(f"{len(matches)} landed exports are called {name!r} ("
                            + ", ".join(landed.export_hash[:12] for landed in matches)
                            + "): give the start of its hash instead, as `spotify-assets exports list` shows it")
    return matches[0]


def remove_export(settings: SpotifySettings, name: str, build: bool = True) -> None:
    """Remove the export (a run in the warehouse pool), then, unless told not to, rebuild the warehouse without it."""
    from spotify_assets.cli.prepare import prepare_dbt_manifest
    from spotify_assets.defs.exports.assets import REMOVED_EXPORT_TAG

    landed = find_export(settings, name)
    prepare_dbt_manifest(settings)
    terminal.say(f"removing {landed.name} (export {landed.export_hash[:12]}): its landing folder and raw rows")
    result = run_job(settings, "remove_spotify_export_job",
                     run_config={"ops": {"remove_spotify_export": {"config": {"export_hash": landed.export_hash}}}},
                     tags={"spotify/export": landed.name, REMOVED_EXPORT_TAG: landed.export_hash,
                           COMMAND_TAG: "exports remove"})
    if not result.success:
        raise CommandFailed(f"removing {landed.name} failed ({failure_reason(result)}); see run {result.run_id} in the "
                            "Dagster UI")
    if not build:
        terminal.say("its plays leave the marts with the next build (`spotify-assets build`, or the daemon's)")
        return
    update_warehouse(settings, "exports remove")
    terminal.say(f"{landed.name} is removed; the published marts no longer hold its plays")
