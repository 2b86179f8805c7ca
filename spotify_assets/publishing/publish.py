"""Publishing: the `marts` schema and the range macros, copied into `marts.duckdb` and swapped in whole.

SQL users, the report and the demo read the published file, never the warehouse: DuckDB lets one
process write a file and refuses readers meanwhile, so readers on the warehouse would block the
pipeline (and the pipeline them). The copy is built beside the target under another name and
renamed over it in one step; a reader holding the old file keeps reading the old copy.

A poll changes a few hundred rows of a million-play history, so the new copy starts as a file copy of the
previous one and takes only what differs. A table dbt rewrites in groups (its incremental models' unique_key:
a day of plays, a bucket) is compared group by group, by row count and the sum of its rows' hashes, and each
group that differs is replaced whole; any other table is compared row by row, by a hash of the whole row.
Publishing after a poll on a million plays takes about 1.5 s instead of 2.4 s that way (bench/RESULTS.md). The result
is the same table for table, which publishing verifies by row count, copying a table whole whenever it disagrees.

The published side's group signatures are the warehouse's of the previous publication, so they are kept in the
copy (schema `group_signatures`, a table per marts table) instead of being hashed again: another 0.3 s of a
million-play poll. Only the grouped comparison writes them, and any other way of publishing a table (copied whole,
compared row by row, dropped) deletes them; they are used only when their columns are the table's grouping and
their row counts add up to the published table's. A copy edited by hand otherwise, against its purpose, keeps its
edits until their groups next change in the warehouse.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "marts"
SIGNATURES_SCHEMA = "group_signatures"
# Above this share of changed rows a table is copied whole: cheaper than deleting and inserting most of it.
WHOLE_TABLE_SHARE = 0.5
# A copy whose file has become mostly free blocks (after many deletions) is rebuilt from scratch.
FREE_SPACE_SHARE = 0.5


@dataclass
class Publication:
    row_counts: dict[str, int]  # rows by table, as published
    rows_written: int  # rows inserted into the published copy (every row when it was built from scratch)
    incremental: bool  # built from the previous copy rather than from scratch


def range_macro_statements() -> list[str]:
    text = resources.files(__package__).joinpath("range_macros.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def publish_marts(warehouse_path: Path, published_path: Path,
                  group_columns: Mapping[str, Sequence[str]] | None = None) -> Publication:
    """Make `published_path` hold exactly the warehouse's marts tables and the range macros.

    `group_columns` names, for some tables, the columns whose values group the rows that change together;
    any grouping gives the same result, a good one only makes the comparison cheaper."""
    group_columns = group_columns or {}
    # Built under a name other than "marts": a catalog named like the schema makes `marts.x` ambiguous.
    building = published_path.with_name(f".publishing-{uuid.uuid4().hex}.duckdb")
    incremental = _reusable(published_path)
    if incremental:
        shutil.copyfile(published_path, building)
    connection = duckdb.connect(str(building))
    try:
        connection.execute(f"ATTACH '{warehouse_path}' AS warehouse (READ_ONLY)")
        for schema in (PUBLISHED_SCHEMA, SIGNATURES_SCHEMA):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        source_columns = _columns(connection, "warehouse")
        building_database = connection.execute("SELECT current_database()").fetchall()[0][0]
        published_columns = _columns(connection, building_database)
        signature_columns = _columns(connection, building_database, SIGNATURES_SCHEMA)
        for table in published_columns.keys() - source_columns.keys():
            connection.execute(f"DROP TABLE {PUBLISHED_SCHEMA}.{table}")
            connection.execute(f"DROP TABLE IF EXISTS {SIGNATURES_SCHEMA}.{table}")
        counts, written = {}, 0
        for table, columns in sorted(source_columns.items()):
            grouping = group_columns.get(table, ())
            grouped = bool(grouping) and set(grouping) <= {column for column, _ in columns}
            if grouped and published_columns.get(table) == columns:
                stored = [name for name, _ in signature_columns.get(table, [])]
                written += _copy_changed_groups(connection, table, grouping, stored)
            else:
                # Stored signatures describe the copy as the grouped path left it; any other path outdates them.
                connection.execute(f"DROP TABLE IF EXISTS {SIGNATURES_SCHEMA}.{table}")
                if published_columns.get(table) != columns:
                    written += _copy_whole_table(connection, table, exists=table in published_columns)
                else:
                    written += _copy_changed_rows(connection, table)
            if _row_count(connection, PUBLISHED_SCHEMA, table) != _row_count(connection, f"warehouse.{PUBLISHED_SCHEMA}", table):
                # Identical duplicate rows are the one case a row hash cannot tell apart (a group's hash sum can):
                # take the table whole. Whatever else made the counts differ, the signatures go with it.
                connection.execute(f"DROP TABLE IF EXISTS {SIGNATURES_SCHEMA}.{table}")
                written += _copy_whole_table(connection, table, exists=True)
            counts[table] = _row_count(connection, PUBLISHED_SCHEMA, table)
        connection.execute("DETACH warehouse")
        # The macros live in both schemas so `top_artists(...)` and `marts.top_artists(...)` both work
        # once the search path includes marts.
        connection.execute(f"SET search_path = '{PUBLISHED_SCHEMA}'")
        for schema in (PUBLISHED_SCHEMA, "main"):
            for statement in range_macro_statements():
                connection.execute(statement.replace("CREATE OR REPLACE MACRO ", f"CREATE OR REPLACE MACRO {schema}.", 1))
        connection.execute("CHECKPOINT")
    except BaseException:
        connection.close()
        building.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(building, published_path)
    return Publication(counts, written, incremental)


def _reusable(published_path: Path) -> bool:
    """The previous copy exists, opens, and is not mostly free space."""
    if not published_path.exists():
        return False
    try:
        with duckdb.connect(str(published_path), read_only=True) as connection:
            total_blocks, free_blocks = connection.execute(
                "SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchall()[0]
    except duckdb.Error:
        return False
    return free_blocks <= FREE_SPACE_SHARE * total_blocks


def _columns(connection: duckdb.DuckDBPyConnection, database: str,
             schema: str = PUBLISHED_SCHEMA) -> dict[str, list[tuple[str, str]]]:
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "ORDER BY table_name, column_index", [database, schema]).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append((column, data_type))
    return columns


def _row_count(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    return connection.execute(f"SELECT count(*) FROM {schema}.{table}").fetchall()[0][0]


def _copy_changed_rows(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    """Delete the published rows the warehouse no longer has and insert the ones it has anew; returns rows inserted."""
    published, source = f"{PUBLISHED_SCHEMA}.{table}", f"warehouse.{PUBLISHED_SCHEMA}.{table}"
    connection.execute(f"CREATE TEMP TABLE published_hashes AS SELECT hash(row) AS row_hash FROM {published} AS row")
    connection.execute(f"CREATE TEMP TABLE source_hashes AS SELECT hash(row) AS row_hash FROM {source} AS row")
    connection.execute("CREATE TEMP TABLE stale_hashes AS SELECT row_hash FROM published_hashes ANTI JOIN source_hashes USING (row_hash)")
    connection.execute("CREATE TEMP TABLE new_hashes AS SELECT row_hash FROM source_hashes ANTI JOIN published_hashes USING (row_hash)")
    try:
        new_rows = _row_count(connection, "temp.main", "new_hashes")
        if new_rows > WHOLE_TABLE_SHARE * _row_count(connection, "temp.main", "source_hashes"):
            return _copy_whole_table(connection, table, exists=True)
        if _row_count(connection, "temp.main", "stale_hashes"):
            connection.execute(f"DELETE FROM {published} AS row WHERE hash(row) IN (SELECT row_hash FROM stale_hashes)")
        if new_rows:
            connection.execute(f"INSERT INTO {published} SELECT * FROM {source} AS row "
                               "WHERE hash(row) IN (SELECT row_hash FROM new_hashes)")
        return new_rows
    finally:
        for name in ("published_hashes", "source_hashes", "stale_hashes", "new_hashes"):
            connection.execute(f"DROP TABLE temp.main.{name}")


def _copy_changed_groups(connection: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
                         stored_columns: Sequence[str]) -> int:
    """Replace the published groups whose row count or summed row hash differ from the warehouse's; returns rows
    inserted. The sum (not an exclusive or) keeps identical rows from cancelling out. `stored_columns`: the
    columns of `group_signatures.<table>` in the copy (empty when it has none)."""
    published, source = f"{PUBLISHED_SCHEMA}.{table}", f"warehouse.{PUBLISHED_SCHEMA}.{table}"
    keys = ", ".join(f'"{column}"' for column in columns)
    in_changed_group = "EXISTS (SELECT 1 FROM changed_groups AS changed WHERE " + " AND ".join(
        f'changed."{column}" IS NOT DISTINCT FROM row."{column}"' for column in columns) + ")"
    signatures = f"SELECT {keys}, count(*) AS row_count, sum(hash(row)) AS summed_hash FROM {{}} AS row GROUP BY ALL"
    connection.execute(f"CREATE TEMP TABLE source_groups AS {signatures.format(source)}")
    if _stored_signatures_fit(connection, table, columns, stored_columns):
        connection.execute(f"CREATE TEMP TABLE published_groups AS FROM {SIGNATURES_SCHEMA}.{table}")
    else:
        connection.execute(f"CREATE TEMP TABLE published_groups AS {signatures.format(published)}")
    connection.execute("CREATE TEMP TABLE new_groups AS FROM source_groups EXCEPT FROM published_groups")
    connection.execute(f"CREATE TEMP TABLE changed_groups AS SELECT DISTINCT {keys} FROM "
                       "(FROM new_groups UNION ALL (FROM published_groups EXCEPT FROM source_groups))")
    # Once this copy is published its groups are the warehouse's; a failure discards the copy, these with it.
    connection.execute(f"CREATE OR REPLACE TABLE {SIGNATURES_SCHEMA}.{table} AS FROM source_groups")
    try:
        new_rows = connection.execute("SELECT coalesce(sum(row_count), 0) FROM new_groups").fetchall()[0][0]
        if new_rows > WHOLE_TABLE_SHARE * _row_count(connection, f"warehouse.{PUBLISHED_SCHEMA}", table):
            return _copy_whole_table(connection, table, exists=True)
        if _row_count(connection, "temp.main", "changed_groups"):
            connection.execute(f"DELETE FROM {published} AS row WHERE {in_changed_group}")
            connection.execute(f"INSERT INTO {published} SELECT row.* FROM {source} AS row WHERE {in_changed_group}")
        return new_rows
    finally:
        for name in ("published_groups", "source_groups", "new_groups", "changed_groups"):
            connection.execute(f"DROP TABLE temp.main.{name}")


def _stored_signatures_fit(connection: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
                           stored_columns: Sequence[str]) -> bool:
    """The copy holds the group signatures of its `table`, grouped by `columns`, and they count its rows."""
    if list(stored_columns) != [*columns, "row_count", "summed_hash"]:
        return False
    stored_rows = connection.execute(f"SELECT sum(row_count) FROM {SIGNATURES_SCHEMA}.{table}").fetchall()[0][0]
    return (stored_rows or 0) == _row_count(connection, PUBLISHED_SCHEMA, table)


def _copy_whole_table(connection: duckdb.DuckDBPyConnection, table: str, exists: bool) -> int:
    if exists:
        connection.execute(f"DROP TABLE {PUBLISHED_SCHEMA}.{table}")
        connection.execute("CHECKPOINT")  # frees the dropped table's blocks for the new copy to reuse
    connection.execute(f"CREATE TABLE {PUBLISHED_SCHEMA}.{table} AS SELECT * FROM warehouse.{PUBLISHED_SCHEMA}.{table}")
    return _row_count(connection, PUBLISHED_SCHEMA, table)


def connect_published(published_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published marts with the search path the macros expect."""
    connection = duckdb.connect(str(published_path), read_only=True)
    connection.execute(f"SET search_path = '{PUBLISHED_SCHEMA}'")
    return connection
