"""SqlTable.insert: every column type the raw tables use, missing values, rows over several statements
(INSERT_CHUNK_ROWS), INSERT OR REPLACE, and a file that the same process can open again read-only at once (dbt and the
metadata reads do so after every load)."""

from datetime import date, datetime

import duckdb

from spotify_assets.lib.raw_tables import INSERT_CHUNK_ROWS, SqlTable

TABLE = SqlTable("typed_rows", "every type a raw table declares", (
    ("id", "VARCHAR PRIMARY KEY"), ("played_at", "TIMESTAMP NOT NULL"), ("played_on", "DATE"), ("plays", "BIGINT"),
    ("item_index", "INTEGER NOT NULL"), ("share", "DOUBLE"), ("flag", "BOOLEAN"),
    ("listener", "VARCHAR NOT NULL DEFAULT 'default'")))


def _row(index: int, **changes):
    values = dict(id=f"row-{index}", played_at=datetime(2024, 3, 31, 1, 59, 59, 123456), played_on=date(2024, 2, 29),
                  plays=2**62 + index, item_index=index, share=index / 3, flag=index % 2 == 0, listener="bob")
    return TABLE.row(**{**values, **changes})


def test_rows_arrive_typed_and_whole(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    rows = [_row(index) for index in range(3 * INSERT_CHUNK_ROWS)]
    rows[7] = _row(7, played_on=None, plays=None, share=None, flag=None)  # optional values missing
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA raw")
        connection.execute(TABLE.create_statement())
        TABLE.insert(connection, rows)
        TABLE.insert(connection, [])  # nothing to insert is no statement at all
        TABLE.insert(connection, [_row(5, share=0.5), _row(3 * INSERT_CHUNK_ROWS + 1)], replace=True)
    with duckdb.connect(str(path), read_only=True) as reader:  # nothing of the writer is left in the process
        stored = reader.execute(f"SELECT * FROM {TABLE.qualified_name} ORDER BY item_index").fetchall()
        types = dict(reader.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                    f"WHERE table_name = '{TABLE.name}'").fetchall())
    expected = [*rows, _row(3 * INSERT_CHUNK_ROWS + 1)]
    expected[5] = _row(5, share=0.5)
    assert stored == expected
    assert types == {"id": "VARCHAR", "played_at": "TIMESTAMP", "played_on": "DATE", "plays": "BIGINT", "item_index": "INTEGER",
                     "share": "DOUBLE", "flag": "BOOLEAN", "listener": "VARCHAR"}
