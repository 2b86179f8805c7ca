"""The import asset: one landed export (a partition) parsed into the `raw.*` tables.

One multi-asset writes all raw tables because one export feeds several of them in one transaction.
Its metadata is the ingest report (accepted, quarantined, without content, ignored, unreadable) and a
check warns when any file of the export could not be fully read.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.lib.exports.importing import ImportSummary, import_export
from spotify_assets.lib.exports.landing import load_landed_export
from spotify_assets.lib.listeners import owner_of_landed_export
from spotify_assets.lib.raw_tables import PARSER_VERSION, RECORD_TABLES
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings

EXPORT_FILES_KEY = AssetKey(["raw", "export_files"])
EXPORT_IMPORTS_KEY = AssetKey(["raw", "export_imports"])
_MARKDOWN_ROWS = 60


def _raw_table_specs() -> list[AssetSpec]:
    # Built by a function: a module-level list of specs would be loaded from defs/ as assets of their own.
    return [
        AssetSpec(AssetKey(["raw", table.name]), description=table.description, group_name="sources",
                  kinds={"duckdb", "python"}, partitions_def=spotify_export_partitions)
        for table in RECORD_TABLES
    ] + [
        AssetSpec(EXPORT_FILES_KEY, group_name="sources", kinds={"duckdb", "python"}, partitions_def=spotify_export_partitions,
                  description="Every file of every export and what became of it; the quarantine is raw.quarantined_records."),
        AssetSpec(EXPORT_IMPORTS_KEY, group_name="sources", kinds={"duckdb", "python"},
                  partitions_def=spotify_export_partitions,
                  description="One row per imported export: whose it is (its listener), when, and what it added."),
    ]


def _files_markdown(summary: ImportSummary) -> str:
    lines = ["| file | role | status | accepted | quarantined | without content | message |", "|---|---|---|---|---|---|---|"]
    for f in summary.files[:_MARKDOWN_ROWS]:
        message = (f.message or "").replace("|", "\\|")[:300]
        lines.append(f"| {f.path} | {f.role} | {f.status} | {f.accepted} | {f.quarantined} | {f.without_content} | {message} |")
    if len(summary.files) > _MARKDOWN_ROWS:
        lines.append(f"| … {len(summary.files) - _MARKDOWN_ROWS} more files in raw.export_files | | | | | | |")
    return "\n".join(lines)


class ImportConfig(Config):
    reimport: bool = False  # read the export again even when this parser version imported it (`import --force`)


@multi_asset(
    name="import_spotify_export",
    specs=_raw_table_specs(),
    check_specs=[AssetCheckSpec("every_file_fully_read", asset=EXPORT_FILES_KEY,
                                description="Warns when a history file of the export was unreadable or only partly read, "
                                "or a JSON array of records was not recognised as listening history.")],
    partitions_def=spotify_export_partitions,
    pool=WAREHOUSE_POOL,
)
def import_spotify_export(context: AssetExecutionContext, config: ImportConfig, spotify_settings: SpotifySettings):
    """Parse one export from landing into raw.*; idempotent per export and parser version."""
    owner = owner_of_landed_export(spotify_settings.data_path, context.partition_key) or spotify_settings.listener_name
    spotify_settings = spotify_settings.for_listener(owner)
    directory = spotify_settings.exports_landing_path / context.partition_key
    if not (directory / "receipt.json").exists():
        raise Failure(f"Export {context.partition_key} is not in landing ({directory}). "
                      "Drop the file into the inbox again or run `spotify-assets import PATH`.")
    landed = load_landed_export(directory)
    with warehouse_connection(spotify_settings) as connection:
        summary = import_export(connection, landed, log=context.log.warning, reimport=config.reimport, listener=owner)
    if summary.already_loaded:
        context.log.info(f"{landed.name} ({landed.export_hash[:12]}) was already imported; nothing changed.")

    for table in RECORD_TABLES:
        yield MaterializeResult(asset_key=AssetKey(["raw", table.name]),
                                metadata={"dagster/row_count": summary.rows_by_table.get(table.name, 0)})
    yield MaterializeResult(asset_key=EXPORT_IMPORTS_KEY, metadata={"listener": spotify_settings.listener_name})
    troubled = summary.troubled_files()
    problems = [f"{f.path}: {f.message}" for f in troubled]
    if not summary.history_files() and not troubled:
        problems.append(no_history_message(summary))
    yield MaterializeResult(
        asset_key=EXPORT_FILES_KEY,
        metadata={
            "export": landed.name,
            "export_kind": landed.kind,
            "history_files": len(summary.history_files()),
            "records_accepted": summary.count("accepted"),
            "records_quarantined": summary.count("quarantined"),
            "records_without_content": summary.count("without_content"),
            "records_reclassified_as_episodes": summary.podcast_rows_among_songs,
            "files_ignored": len(summary.files_with_status("ignored")),
            "files_unreadable": len(summary.files_with_status("unreadable")),
            "files_partly_read": len(summary.files_with_status("partial")),
            "files_unrecognised": len(summary.files_with_status("unrecognised")),
            "already_imported": summary.already_loaded,
            "parser_version": PARSER_VERSION,
            "files": MetadataValue.md(_files_markdown(summary)),
        },
    )
    yield AssetCheckResult(
        asset_key=EXPORT_FILES_KEY,
        check_name="every_file_fully_read",
        passed=not problems,
        severity=AssetCheckSeverity.WARN,
        description="; ".join(problems)[:2000] or "All history files were read completely.",
        metadata={"troubled_files": len(troubled), "records_quarantined": summary.count("quarantined")},
    )


def no_history_message(summary: ImportSummary) -> str:
    files = len(summary.files)
    return (f"{summary.name} holds no listening history ({files} file{'' if files == 1 else 's'}, none of them "
            "Spotify streaming history); it is kept in landing and adds no plays")


# The content hash of the export a run of remove_spotify_export_job removed.
REMOVED_EXPORT_TAG = "spotify/removed_export"


def imported_exports(instance) -> set[str]:
    """The exports (partition keys) imported and not removed since: a removed export landed again is imported again."""
    from dagster import AssetRecordsFilter, DagsterRunStatus, RunsFilter

    imported = set(instance.get_materialized_partitions(EXPORT_FILES_KEY))
    for record in instance.get_run_records(RunsFilter(job_name="remove_spotify_export_job",
                                                      statuses=[DagsterRunStatus.SUCCESS])):
        removed = record.dagster_run.tags.get(REMOVED_EXPORT_TAG)
        if removed not in imported:
            continue
        newest = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=EXPORT_FILES_KEY, asset_partitions=[removed]), limit=1).records
        if newest and newest[0].timestamp < record.create_timestamp.timestamp():
            imported.discard(removed)
    return imported


def outdated_imports(instance) -> list[str]:
    """The exports (partition keys) last imported by an older parser, which a newer one reads more of."""
    latest: dict[str, int | None] = {}
    # Newest first; 10,000 is the most an instance returns at once (one materialization per import).
    for record in instance.fetch_materializations(EXPORT_FILES_KEY, limit=10_000).records:
        materialization = record.asset_materialization
        version = materialization.metadata.get("parser_version")
        latest.setdefault(materialization.partition, version.value if version is not None else None)
    return sorted(key for key, version in latest.items() if version != PARSER_VERSION)
