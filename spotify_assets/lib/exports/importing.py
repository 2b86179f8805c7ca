"""Loading one landed export into `raw.*`, all or nothing, and only once per parser version.

Every file is first read into temporary staging tables (well-formed extended-history files by DuckDB's
JSON reader, many at a time; the rest record by record), then the export's rows are replaced as a unit
inside one transaction, keyed by the export's hash. Staging comes first because a file DuckDB refuses
to read would abort a transaction it ran in. So re-running an import (or the same export dropped
twice) changes nothing, and a crash mid-way leaves the previous state. Overlapping exports both land;
the counting rules deduplicate them in dbt.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from spotify_assets.lib.exports.bulk_reading import (
    ExtendedFile,
    could_read_in_bulk,
    read_extended_files,
)
from spotify_assets.lib.exports.landing import LandedExport
from spotify_assets.lib.exports.members import Member, UnreadableExport, iter_entries
from spotify_assets.lib.exports.parsing import (
    ParsedFile,
    file_role,
    named_like_history,
    parse_member,
)
from spotify_assets.lib.exports.pieces import pieces
from spotify_assets.lib.identity import normalize_name
from spotify_assets.lib.listeners import DEFAULT_LISTENER
from spotify_assets.lib.raw_tables import (
    BOOKKEEPING_TABLES,
    EXPORT_FILES,
    EXPORT_IMPORTS,
    PARSER_VERSION,
    QUARANTINED_RECORDS,
    RECORD_TABLES,
    create_raw_tables,
)

_TABLES_BY_NAME = {table.name: table for table in RECORD_TABLES}


@dataclass
class FileOutcome:
    path: str
    role: str
    status: str
    accepted: int = 0
    quarantined: int = 0
    without_content: int = 0
    message: str | None = None


@dataclass
class ImportSummary:
    export_hash: str
    name: str
    kind: str
    already_loaded: bool = False
    files: list[FileOutcome] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    # Account-data song rows whose artist is a podcast show a podcast record names, as far as the warehouse knows at
    # import time (dbt counts them as episodes: int_standard_streams_deduplicated; later exports may name more).
    podcast_rows_among_songs: int = 0

    def count(self, attribute: str) -> int:
        return sum(getattr(outcome, attribute) for outcome in self.files)

    def files_with_status(self, *statuses: str) -> list[FileOutcome]:
        return [outcome for outcome in self.files if outcome.status in statuses]

    def history_files(self) -> list[FileOutcome]:
        """The files read as listening history, whole or in part."""
        return self.files_with_status("parsed", "partial")

    def troubled_files(self) -> list[FileOutcome]:
        """Files that hold (or may hold) history that did not fully land: the import's check warns about them."""
        return self.files_with_status("unreadable", "partial", "unrecognised")


class ExportOfAnotherListener(ValueError):
    """The same bytes were imported for another listener: an export is one account's history."""


def import_export(connection, landed: LandedExport, log: Callable[[str], None] = lambda _: None,
                  reimport: bool = False, listener: str = DEFAULT_LISTENER) -> ImportSummary:
    """`reimport`: read it again even when this parser version has imported it. `listener`: whose export it is."""
    create_raw_tables(connection)
    # DuckDB 2.0 keeps a result open until it is fully fetched, hence fetchall() even for one row.
    loaded = connection.execute(
        "SELECT parser_version, listener FROM raw.export_imports WHERE export_hash = ?", [landed.export_hash]
    ).fetchall()
    if loaded and loaded[0][1] != listener:
        raise ExportOfAnotherListener(
            f"{landed.name}: the same export was imported for the listener {loaded[0][1]}; an export is one "
            f"account's history (`spotify-assets exports remove` it there first if it was imported for the wrong one)")
    if loaded and loaded[0][0] == PARSER_VERSION and not reimport:
        summary = summary_from_warehouse(connection, landed)
        summary.already_loaded = True
        return summary

    summary = ImportSummary(landed.export_hash, landed.name, landed.kind)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    _create_staging_tables(connection)
    try:
        _stage_export(connection, landed, summary, loaded_at, log)
        connection.execute("BEGIN TRANSACTION")
        try:
            delete_export_rows(connection, landed.export_hash)
            for name in _STAGED_TABLES:
                connection.execute(f"INSERT INTO raw.{name} SELECT * FROM {_staged(name)}")
            _insert_bookkeeping(connection, summary, loaded_at, listener)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        for name in _STAGED_TABLES:
            connection.execute(f"DROP TABLE IF EXISTS {_staged(name)}")
    summary.rows_by_table = _rows_by_table(connection, landed.export_hash)
    summary.podcast_rows_among_songs = podcast_rows_among_songs(connection, landed.export_hash)
    return summary


def podcast_rows_among_songs(connection, export_hash: str) -> int:
    """The export's account-data song rows by an artist whose name a podcast record gives as a show's."""
    shows = {normalize_name(name) for (name,) in connection.execute(
        "SELECT DISTINCT episode_show_name FROM raw.extended_episode_streams WHERE episode_show_name IS NOT NULL "
        "UNION SELECT DISTINCT \"podcastName\" FROM raw.standard_episode_streams WHERE \"podcastName\" IS NOT NULL"
    ).fetchall()}
    return sum(count for artist, count in connection.execute(
        'SELECT "artistName", count(*) FROM raw.standard_music_streams WHERE _export_hash = ? GROUP BY 1', [export_hash]
    ).fetchall() if normalize_name(artist) in shows)


_STAGED_TABLES = tuple(table.name for table in RECORD_TABLES) + ("quarantined_records",)


def _staged(table_name: str) -> str:
    return f"temp.staged_{table_name}"


def _create_staging_tables(connection) -> None:
    for name in _STAGED_TABLES:
        connection.execute(f"CREATE OR REPLACE TEMP TABLE staged_{name} AS SELECT * FROM raw.{name} LIMIT 0")


# History files larger than this are streamed in pieces (pieces.py) rather than read whole: Spotify writes them at
# about 12 MB, and one read whole costs many times its size in memory when read record by record.
STREAM_ABOVE_BYTES = 32 * 1024 * 1024

# Extended files go to DuckDB together: one statement over many files runs on both cores, where one per
# file runs on one and pays DuckDB's fixed cost per statement (32 files: 6.0 s one by one, 1.8 s together).
_BULK_BATCH_BYTES = 256 * 1024 * 1024


@dataclass
class _PendingFiles:
    """Extended files written to the scratch folder, waiting for one bulk read; `slots` are their places in the
    summary's file list, so outcomes keep the export's order."""

    files: list[ExtendedFile] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    size: int = 0


def _stage_export(connection, landed: LandedExport, summary: ImportSummary, loaded_at: datetime, log) -> None:
    def record(outcome: FileOutcome, slot: int | None = None) -> None:
        if slot is None:
            summary.files.append(outcome)
        else:
            summary.files[slot] = outcome
        if outcome.status not in ("parsed", "ignored") or outcome.quarantined:  # not history: counted, not logged
            log(outcome_line(landed.name, outcome))

    rows = _RowBuffer(connection, landed.export_hash, loaded_at)

    def stage_record_by_record(member: Member, role: str) -> FileOutcome:
        parsed = parse_member(member, role)
        rows.add(parsed)
        return FileOutcome(parsed.path, role, parsed.status, parsed.accepted, len(parsed.quarantined),
                           parsed.without_content, parsed.message)

    def stage_in_pieces(entry, role: str) -> FileOutcome:
        """A history file too large to hold in memory, read piece by piece (pieces.py), each piece as a file is read:
        by DuckDB when it can, else record by record; record indexes run on across pieces."""
        outcome = FileOutcome(entry.path, role, "parsed")
        messages: list[str] = []
        with entry.opener() as stream:
            for number, piece in enumerate(pieces(stream)):
                member = Member(entry.path, piece.content)
                read = None
                if role == "extended" and could_read_in_bulk(piece.content):
                    json_file = Path(scratch) / f"piece-{number}.json"
                    json_file.write_bytes(piece.content)
                    read = read_extended_files(connection, [ExtendedFile(json_file, entry.path, outcome_records(outcome))],
                                               _staged, landed.export_hash, loaded_at).get(entry.path)
                    json_file.unlink()
                if read is not None:
                    outcome.accepted += sum(read.accepted_by_table.values())
                    outcome.without_content += read.without_content
                    if read.unknown_fields:
                        messages.append("unknown fields ignored: " + ", ".join(read.unknown_fields))
                else:
                    parsed = parse_member(member, role, first_index=outcome_records(outcome),
                                          first_line=piece.first_line)
                    rows.add(parsed)
                    if parsed.status == "unreadable" and number == 0:
                        return FileOutcome(entry.path, role, "unreadable", message=parsed.message)
                    outcome.accepted += parsed.accepted
                    outcome.quarantined += len(parsed.quarantined)
                    outcome.without_content += parsed.without_content
                    if parsed.status != "parsed":
                        outcome.status = "partial"
                    if parsed.message:
                        messages.append(parsed.message)
                if piece.problem:
                    outcome.status = "partial"
                    messages.append(piece.problem)
        outcome.message = "; ".join(dict.fromkeys(messages)) or None
        return outcome

    def outcome_records(outcome: FileOutcome) -> int:
        return outcome.accepted + outcome.quarantined + outcome.without_content

    def read_pending(pending: _PendingFiles) -> None:
        read = read_extended_files(connection, pending.files, _staged, landed.export_hash, loaded_at)
        for file, slot in zip(pending.files, pending.slots):
            if file.member_path in read:
                bulk = read[file.member_path]
                message = "unknown fields ignored: " + ", ".join(bulk.unknown_fields) if bulk.unknown_fields else None
                record(FileOutcome(file.member_path, "extended", "parsed", sum(bulk.accepted_by_table.values()), 0,
                                   bulk.without_content, message), slot)
            else:
                record(stage_record_by_record(Member(file.member_path, file.json_file.read_bytes()), "extended"), slot)
            file.json_file.unlink()

    with tempfile.TemporaryDirectory(prefix="spotify-export-") as scratch:
        pending = _PendingFiles()
        for path in landed.not_copied:
            record(FileOutcome(path, "not history", "ignored", message=NOT_COPIED))
        try:
            for entry in iter_entries(landed.payload, landed.kind):
                if entry.reader is None:  # encrypted, an unknown compression, a link: said why, not read
                    history = named_like_history(entry.path)
                    record(FileOutcome(entry.path, "history" if history else "not history",
                                       "unreadable" if history else "ignored", message=entry.problem))
                    continue
                # What a file is, from its name or its first 64 KB: a file that is not history is never read whole.
                head = entry.head()
                role = file_role(head, single_file_export=landed.kind == "file")
                if role is None:
                    history = head.problem is not None and named_like_history(entry.path)  # damaged: name it
                    record(FileOutcome(entry.path, "history" if history else "not history",
                                       "unreadable" if history else "ignored", message=head.problem))
                    continue
                if entry.opener and role != "unrecognised" and (entry.size or 0) > STREAM_ABOVE_BYTES:
                    record(stage_in_pieces(entry, role))
                    continue
                member = entry.read()
                if member.too_large and entry.opener and role != "unrecognised":  # its size was not what it claimed
                    record(stage_in_pieces(entry, role))
                    continue
                if role == "extended" and not member.problem and could_read_in_bulk(member.content):
                    # DuckDB reads files, and a zip's members are only in memory.
                    json_file = Path(scratch) / f"{len(summary.files)}.json"
                    json_file.write_bytes(member.content)
                    pending.files.append(ExtendedFile(json_file, member.path))
                    pending.slots.append(len(summary.files))
                    summary.files.append(None)  # filled in by read_pending
                    pending.size += len(member.content)
                    if pending.size >= _BULK_BATCH_BYTES:
                        read_pending(pending)
                        pending = _PendingFiles()
                else:
                    record(stage_record_by_record(member, role))
        except UnreadableExport as error:
            summary.files.append(FileOutcome(landed.name, "export", "unreadable", message=str(error)))
            log(str(error))
        read_pending(pending)
        rows.flush()


NOT_COPIED = "a symbolic link or a special file in the folder: not followed, not read"


class _RowBuffer:
    """Rows of record-by-record files, staged many files at a time: one statement per file would make an export of
    thousands of small files cost seconds per thousand files, whatever they hold."""

    FLUSH_ROWS = 200_000

    def __init__(self, connection, export_hash: str, loaded_at: datetime):
        self.connection, self.export_hash, self.loaded_at = connection, export_hash, loaded_at
        self.rows: dict[str, list[list]] = {}
        self.quarantined: list[tuple] = []
        self.count = 0

    def add(self, parsed: ParsedFile) -> None:
        for table_name, table_rows in parsed.rows.items():
            self.rows.setdefault(table_name, []).extend(row + [parsed.path] for row in table_rows)
            self.count += len(table_rows)
        self.quarantined += [QUARANTINED_RECORDS.row(export_hash=self.export_hash, file_path=parsed.path,
                                                     record_index=index, reason=reason, record_json=record)
                             for index, reason, record in parsed.quarantined]
        if self.count + len(self.quarantined) >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        import pandas as pd  # here, not at the top: every command loads this module, few import exports (0.5 s)

        for table_name, table_rows in self.rows.items():
            table = _TABLES_BY_NAME[table_name]
            names = [column.name for column in table.columns] + ["_record_index", "_file_path"]
            casts = ", ".join([f'CAST("{column.name}" AS {column.sql_type})' for column in table.columns]
                              + ["CAST(_record_index AS INTEGER)", "_file_path"])
            _insert_frame(self.connection, pd.DataFrame(table_rows, columns=names, dtype=object),
                          f"INSERT INTO {_staged(table.name)} ({', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)}, "
                          f"_export_hash, _loaded_at) SELECT {casts}, ?, ? FROM incoming_rows",
                          [self.export_hash, self.loaded_at])
        if self.quarantined:
            frame = pd.DataFrame(self.quarantined, columns=QUARANTINED_RECORDS.column_names, dtype=object)
            _insert_frame(self.connection, frame, f"INSERT INTO {_staged('quarantined_records')} BY NAME "
                          "SELECT * REPLACE (CAST(record_index AS INTEGER) AS record_index) FROM incoming_rows")
        self.rows, self.quarantined, self.count = {}, [], 0


def _insert_frame(connection, frame, statement: str, parameters: list | None = None) -> None:
    connection.register("incoming_rows", frame)
    try:
        connection.execute(statement, parameters or [])
    finally:
        connection.unregister("incoming_rows")


def outcome_line(export_name: str, outcome: FileOutcome) -> str:
    """One line naming the file once (a single-file export is its own only file) and what became of it."""
    where = export_name if outcome.path == export_name else f"{export_name}: {outcome.path}"
    line = f"{where}: {outcome.status}"
    if outcome.quarantined:
        line += f", {outcome.quarantined:,} records quarantined"
    return line + (f": {outcome.message}" if outcome.message else "")


def delete_export_rows(connection, export_hash: str) -> None:
    """Every row the export put into raw.* (its records, its file list, its quarantine); inside the caller's
    transaction."""
    for table in RECORD_TABLES:
        connection.execute(f"DELETE FROM {table.qualified_name} WHERE _export_hash = ?", [export_hash])
    for table in BOOKKEEPING_TABLES:
        connection.execute(f"DELETE FROM {table.qualified_name} WHERE export_hash = ?", [export_hash])


def _insert_bookkeeping(connection, summary: ImportSummary, loaded_at: datetime, listener: str) -> None:
    EXPORT_FILES.insert(connection, [EXPORT_FILES.row(
        export_hash=summary.export_hash, file_path=f.path, file_role=f.role, status=f.status,
        records_accepted=f.accepted, records_quarantined=f.quarantined, records_without_content=f.without_content,
        message=f.message) for f in summary.files])
    EXPORT_IMPORTS.insert(connection, [EXPORT_IMPORTS.row(
        export_hash=summary.export_hash, export_name=summary.name, export_kind=summary.kind,
        parser_version=PARSER_VERSION, imported_at=loaded_at, files_read=len(summary.history_files()),
        files_ignored=len(summary.files_with_status("ignored")),
        files_unreadable=len(summary.files_with_status("unreadable")), records_accepted=summary.count("accepted"),
        records_quarantined=summary.count("quarantined"), records_without_content=summary.count("without_content"),
        listener=listener)])


def _rows_by_table(connection, export_hash: str) -> dict[str, int]:
    return {
        table.name: connection.execute(
            f"SELECT count(*) FROM {table.qualified_name} WHERE _export_hash = ?", [export_hash]
        ).fetchall()[0][0]
        for table in RECORD_TABLES
    }


def summary_from_warehouse(connection, landed: LandedExport) -> ImportSummary:
    summary = ImportSummary(landed.export_hash, landed.name, landed.kind)
    for path, role, status, accepted, quarantined, without_content, message in connection.execute(
        "SELECT file_path, file_role, status, records_accepted, records_quarantined, records_without_content, message "
        "FROM raw.export_files WHERE export_hash = ? ORDER BY file_path",
        [landed.export_hash],
    ).fetchall():
        summary.files.append(FileOutcome(path, role, status, accepted, quarantined, without_content, message))
    summary.rows_by_table = _rows_by_table(connection, landed.export_hash)
    summary.podcast_rows_among_songs = podcast_rows_among_songs(connection, landed.export_hash)
    return summary
