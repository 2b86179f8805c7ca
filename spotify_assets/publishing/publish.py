"""Publishing: the `marts` schema and the range macros, copied into `marts.duckdb` and swapped in whole.

SQL users, the report and the demo read the published file, never the warehouse: DuckDB lets one
process write a file and refuses readers meanwhile, so readers on the warehouse would block the
pipeline (and the pipeline them). The copy is built beside the target under another name and
renamed over it in one step; a reader holding the old file keeps reading the old copy.
"""

from __future__ import annotations

import os
import uuid
from importlib import resources
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "marts"


def range_macro_statements() -> list[str]:
    text = resources.files(__package__).joinpath("range_macros.sql").read_text()
    code = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def publish_marts(warehouse_path: Path, published_path: Path) -> dict[str, int]:
    """Copy every table of the warehouse's marts schema; returns row counts by table."""
    # Built under a name other than "marts": a catalog named like the schema makes `marts.x` ambiguous.
    building = published_path.with_name(f".publishing-{uuid.uuid4().hex}.duckdb")
    connection = duckdb.connect(str(building))
    try:
        connection.execute(f"ATTACH '{warehouse_path}' AS warehouse (READ_ONLY)")
        tables = [row[0] for row in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse' AND schema_name = ? ORDER BY 1",
            [PUBLISHED_SCHEMA]).fetchall()]
        connection.execute(f"CREATE SCHEMA {PUBLISHED_SCHEMA}")
        counts = {}
        for table in tables:
            connection.execute(f"CREATE TABLE {PUBLISHED_SCHEMA}.{table} AS SELECT * FROM warehouse.{PUBLISHED_SCHEMA}.{table}")
            counts[table] = connection.execute(f"SELECT count(*) FROM {PUBLISHED_SCHEMA}.{table}").fetchall()[0][0]
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
    return counts


def connect_published(published_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published marts with the search path the macros expect."""
    connection = duckdb.connect(str(published_path), read_only=True)
    connection.execute(f"SET search_path = '{PUBLISHED_SCHEMA}'")
    return connection
