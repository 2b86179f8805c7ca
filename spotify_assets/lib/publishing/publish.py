"""Publishing: the warehouse's marts file, copied to `marts.duckdb` with the range macros and swapped in whole.

SQL users, the report and the demo read the published file, never the warehouse: DuckDB lets one
process write a file and refuses readers meanwhile, so readers on the warehouse would block the
pipeline (and the pipeline them). dbt writes the marts into a file of their own beside the warehouse
(`warehouse_marts.duckdb`, attached as `warehouse_marts`: dbt_project/profiles.yml), so publishing is a
file copy, whatever changed: the copy gets the range macros and is renamed over the published file in one
step. A reader holding the old file keeps reading the old copy.

Copying tables into a new file instead took 4.9 s at a million plays (DuckDB compresses every row again),
and comparing a copy with the warehouse to write only what changed 1.4-2.5 s after each poll; the file copy
takes a fraction of a second (bench/RESULTS.md).

Every marts table carries its rows' listener (counting rules, section 12); a published file holds one listener's
rows, without the column. When the marts hold only that listener's rows (a single-listener installation), the file
copy stands and the column is dropped from it (0.1 s for every table at a million plays). Otherwise the listener's
rows are copied table by table into a new file: a copy of the whole file with the others' rows deleted would still
hold their data in its free blocks. Every listener is published in one pass (`publish_listeners`): the marts are read
once, ordered by listener, each listener's file takes only its own row groups, and the files are written one per core
at a time, each in one transaction committed straight into its file (100 listeners of 10,000 plays each: 25 s and 45
CPU seconds, where a commit per table took 30-37 s and 52-64 CPU seconds, and one listener after another 87 s;
bench/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from spotify_assets.lib.processes import remove_leftovers

# Every relation and macro sits in the published file's main schema: opened directly (the file's catalog is then
# `marts`, after its name), `fct_plays` and `marts.fct_plays` both answer, with no SET, USE or ATTACH first.
PUBLISHED_SCHEMA = "main"
# The next published file while it is built (or left by a process that was killed: removed by the next one).
# The folder where ordering the marts by listener spills to disk is named the same way, ending in `.spill`.
PUBLISHING_LEFTOVER = r"\.publishing-(?P<pid>[0-9]+)-[0-9a-f]{32}(\.duckdb(\.wal)?|\.spill)"


@dataclass
class Publication:
    row_counts: dict[str, int]  # rows by table, as published
    bytes_copied: int  # size of the published file


def range_macro_statements() -> list[str]:
    text = resources.files(__package__).joinpath("range_macros.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def publish_marts(marts_path: Path, published_path: Path, listener: str = "default") -> Publication:
    """Make `published_path` hold exactly `listener`'s rows of the tables of `marts_path` (dbt's marts file), without
    the listener column, and the range macros."""
    return publish_listeners(marts_path, {listener: published_path})[listener]


def publish_listeners(marts_path: Path, destinations: dict[str, Path]) -> dict[str, Publication]:
    """`publish_marts` for every listener of `destinations` (listener -> its published file) in one pass: the marts
    are read once, each table ordered by listener, so that each listener's copy reads only the row groups holding its
    rows, and the files are written one per core at a time."""
    # A process that ended without closing the file can leave changes in its write-ahead log, which a file copy
    # would miss: opening the file replays the log and a checkpoint writes it into the file.
    with duckdb.connect(str(marts_path)) as connection:
        connection.execute("CHECKPOINT")
        tables = _tables(connection)
        others = _other_listeners(connection, tables, list(destinations))
    for folder in {path.parent for path in destinations.values()}:
        folder.mkdir(parents=True, exist_ok=True)
        remove_leftovers(folder, PUBLISHING_LEFTOVER)
    if len(destinations) == 1 and not others:
        ((listener, path),) = destinations.items()
        return {listener: _publish_copy(marts_path, path, tables)}
    spill = _building(next(iter(destinations.values()))).with_suffix(".spill")
    spill.mkdir()
    try:
        return _publish_sorted(marts_path, destinations, tables, spill)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _publish_sorted(marts_path: Path, destinations: dict[str, Path], tables: dict[str, list[str]],
                    spill: Path) -> dict[str, Publication]:
    """Each listener's file written table by table from its own rows, ordering by listener spilling into `spill`."""
    with duckdb.connect(config={"temp_directory": str(spill), "memory_limit": SORT_MEMORY,
                                "checkpoint_threshold": "0b"}) as connection:
        connection.execute(f"ATTACH '{marts_path}' AS source_marts (READ_ONLY)")
        source = f"source_marts.{PUBLISHED_SCHEMA}"
        if len(destinations) > 1:  # each table once, ordered by listener, for every listener's copy to read from
            for table, columns in tables.items():
                connection.execute(f'CREATE TABLE memory.main."{table}" AS SELECT * FROM {source}."{table}"'
                                   + (f" ORDER BY {LISTENER_COLUMN}" if LISTENER_COLUMN in columns else ""))
            connection.execute("DETACH source_marts")
            source = "memory.main"
        counts = _counts_by_listener(connection, source, tables, list(destinations))
        # One file per worker at a time, each on its own cursor (a connection to the same database).
        with ThreadPoolExecutor(max_workers=min(len(destinations), os.cpu_count() or 1)) as workers:
            published = workers.map(lambda job: _publish_rows(connection.cursor(), source, tables, *job),
                                    [(listener, path, counts[listener], number)
                                     for number, (listener, path) in enumerate(destinations.items())])
            return dict(zip(destinations, published))


def _counts_by_listener(connection: duckdb.DuckDBPyConnection, source: str, tables: dict[str, list[str]],
                        listeners: list[str]) -> dict[str, dict[str, int]]:
    """Each listener's rows in each table (every row of a table without the listener column)."""
    counts: dict[str, dict[str, int]] = {listener: {} for listener in listeners}
    for table, columns in sorted(tables.items()):
        if LISTENER_COLUMN in columns:
            rows = dict(connection.execute(f'SELECT {LISTENER_COLUMN}, count(*) FROM {source}."{table}" '
                                           f"GROUP BY ALL").fetchall())
        else:
            rows = dict.fromkeys(listeners, connection.execute(f'SELECT count(*) FROM {source}."{table}"').fetchone()[0])
        for listener in listeners:
            counts[listener][table] = rows.get(listener, 0)
    return counts

LISTENER_COLUMN = "listener"
# What ordering the marts by listener may hold in memory before it spills to disk beside the published files.
SORT_MEMORY = "1GB"


def _building(published_path: Path) -> Path:
    return published_path.with_name(f".publishing-{os.getpid()}-{uuid.uuid4().hex}.duckdb")


def _discard(building: Path) -> None:
    building.unlink(missing_ok=True)
    building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _publish_copy(marts_path: Path, published_path: Path, tables: dict[str, list[str]]) -> Publication:
    """The marts hold one listener's rows: the file copy, with the listener column dropped."""
    building = _building(published_path)
    try:
        # The copy keeps the marts file's storage format (DuckDB 1.4's: dbt_project/profiles.yml), which the
        # command-line tool and older DuckDB versions read.
        shutil.copyfile(marts_path, building)
        with duckdb.connect(str(building)) as connection:
            for table, columns in tables.items():
                if LISTENER_COLUMN in columns:
                    connection.execute(f'ALTER TABLE {PUBLISHED_SCHEMA}."{table}" DROP COLUMN {LISTENER_COLUMN}')
            for statement in range_macro_statements():
                connection.execute(statement)
            counts = _row_counts(connection)
            connection.execute("CHECKPOINT")
    except BaseException:
        _discard(building)
        raise
    os.replace(building, published_path)
    return Publication(counts, published_path.stat().st_size)


def _publish_rows(connection: duckdb.DuckDBPyConnection, source: str, tables: dict[str, list[str]], listener: str,
                  published_path: Path, counts: dict[str, int], number: int) -> Publication:
    """A new file (in DuckDB 1.4's storage format) with `listener`'s rows of every table of `source`, in their order,
    and the range macros. `number` names the file's attachment apart from the other workers'."""
    building, alias = _building(published_path), f"published_{number}"
    try:
        connection.execute(f"ATTACH '{building}' AS {alias} (STORAGE_VERSION 'v1.4.0')")
        # One transaction for the whole file, committed straight into it (the connection's checkpoint threshold is 0):
        # a commit per table, each into the write-ahead log and then copied into the file, took 0.41 s a file where
        # this takes 0.25 s (bench/RESULTS.md).
        connection.execute("BEGIN TRANSACTION")
        for table, columns in tables.items():
            kept = ", ".join(f'"{column}"' for column in columns if column != LISTENER_COLUMN)
            where = f" WHERE {LISTENER_COLUMN} = $listener" if LISTENER_COLUMN in columns else ""
            connection.execute(f'CREATE TABLE {alias}.{PUBLISHED_SCHEMA}."{table}" AS '
                               f'SELECT {kept} FROM {source}."{table}"{where}', {"listener": listener} if where else None)
        connection.execute(f"USE {alias}.{PUBLISHED_SCHEMA}")
        for statement in range_macro_statements():
            connection.execute(statement)
        connection.execute("USE memory.main")
        connection.execute("COMMIT")
        connection.execute(f"DETACH {alias}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a transaction left open by the failure
            connection.execute("ROLLBACK")
        if connection.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [alias]).fetchone()[0]:
            connection.execute("USE memory.main")
            connection.execute(f"DETACH {alias}")
        _discard(building)
        raise
    finally:
        connection.close()
    os.replace(building, published_path)
    return Publication(counts, published_path.stat().st_size)


def _tables(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The marts tables (not views) of the file and their columns, in order."""
    tables: dict[str, list[str]] = {}
    for table, column in connection.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = ? "
            "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ?) ORDER BY table_name, column_index", [PUBLISHED_SCHEMA, PUBLISHED_SCHEMA]).fetchall():
        tables.setdefault(table, []).append(column)
    return tables


def _other_listeners(connection: duckdb.DuckDBPyConnection, tables: dict[str, list[str]], listeners: list[str]) -> bool:
    """Whether any table holds a row of a listener not in `listeners`."""
    return any(connection.execute(
        f'SELECT 1 FROM {PUBLISHED_SCHEMA}."{table}" WHERE {LISTENER_COLUMN} IS NULL '
        f"OR NOT list_contains($listeners, {LISTENER_COLUMN}) LIMIT 1",
        {"listeners": listeners}).fetchall() for table, columns in tables.items() if LISTENER_COLUMN in columns)


def _row_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [name for (name,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
        "ORDER BY table_name", [PUBLISHED_SCHEMA]).fetchall()]
    return {table: connection.execute(f"SELECT count(*) FROM {PUBLISHED_SCHEMA}.{table}").fetchall()[0][0]
            for table in tables}


def connect_published(published_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published marts, as a SQL user opens the file."""
    return duckdb.connect(str(published_path), read_only=True)


def marts_timezone(connection: duckdb.DuckDBPyConnection, default: str) -> str:
    """The time zone the published marts were computed in (their warehouse_settings row); `default` for marts
    published before they carried it."""
    try:
        rows = connection.execute("SELECT timezone FROM warehouse_settings").fetchall()
    except duckdb.CatalogException:
        return default
    return rows[0][0] if rows else default
