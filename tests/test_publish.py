"""Publishing leaves exactly the warehouse's marts in marts.duckdb, with the range macros, whatever changed, and
never disturbs a reader of the previous copy."""

import shutil

import duckdb
import pytest

from spotify_assets.lib.publishing.publish import connect_published, publish_marts


@pytest.fixture
def marts(demo_data_dir, tmp_path):
    """A copy of the demo's marts file: every marts table, as dbt builds them."""
    path = tmp_path / "warehouse_marts.duckdb"
    shutil.copyfile(demo_data_dir / "warehouse_marts.duckdb", path)
    return path


def _execute(path, *statements):
    with duckdb.connect(str(path)) as connection:
        for statement in statements:
            connection.execute(statement)


def _contents(path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted, from the marts file or a published copy."""
    with duckdb.connect(str(path), read_only=True) as connection:
        database = connection.execute("SELECT current_database()").fetchall()[0][0]
        tables = [name for (name,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall()]
        with_listener = {table for (table,) in connection.execute(
            "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'main' AND column_name = 'listener'").fetchall()}
        # A published file is one listener's rows without the column (the demo's marts hold the default's only).
        return {table: sorted(connection.execute(
                    f'SELECT * {"EXCLUDE (listener)" if table in with_listener else ""} FROM "{database}".main.{table}'
                ).fetchall(), key=_nulls_first)
                for table in tables}


def _nulls_first(row: tuple) -> list:
    return [(value is not None, value) if value is not None else (False, 0) for value in row]


def test_the_publication_holds_every_marts_table_and_the_range_macros(marts, tmp_path):
    published = tmp_path / "marts.duckdb"
    publication = publish_marts(marts, published)
    contents = _contents(marts)
    assert len(contents) > 15 and publication.row_counts == {table: len(rows) for table, rows in contents.items()}
    assert publication.bytes_copied == published.stat().st_size
    assert _contents(published) == contents
    with connect_published(published) as connection:
        assert connection.execute("SELECT schema_name FROM duckdb_functions() WHERE function_name = 'top_artists'"
                                  ).fetchall() == [("main",)]
        top = connection.execute("SELECT * FROM top_artists('1900-01-01', '2100-01-01', n := 3)").fetchall()
        assert len(top) == 3 and top[0][2] >= top[1][2] >= top[2][2] > 0
    assert not list(tmp_path.glob(".publishing-*"))


def test_a_republication_has_every_change_of_the_marts(marts, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(marts, published)
    _execute(marts,
             "INSERT INTO fct_plays SELECT * REPLACE (play_id || '-new' AS play_id) FROM fct_plays LIMIT 1",
             "UPDATE fct_plays SET track_name = 'renamed' WHERE play_id = (SELECT min(play_id) FROM fct_plays)",
             "DELETE FROM fct_plays WHERE play_id = (SELECT max(play_id) FROM fct_plays)",
             "ALTER TABLE dim_track ADD COLUMN rating INTEGER DEFAULT 5",  # a model gained a column
             "DROP TABLE mart_genre_coverage",  # a model's table went
             "CREATE TABLE mart_new AS SELECT 1 AS x UNION ALL SELECT 1")  # identical rows
    publication = publish_marts(marts, published)
    assert "mart_genre_coverage" not in publication.row_counts and publication.row_counts["mart_new"] == 2
    assert _contents(published) == _contents(marts)


def test_changes_still_in_the_write_ahead_log_are_published(marts, tmp_path):
    """A process that stopped without a checkpoint leaves its last changes in the .wal file beside the marts."""
    published = tmp_path / "marts.duckdb"
    publish_marts(marts, published)
    _execute(marts, "PRAGMA disable_checkpoint_on_shutdown",
             "DELETE FROM fct_plays WHERE local_hour < 12")
    assert marts.with_name(marts.name + ".wal").exists()
    publish_marts(marts, published)
    with connect_published(published) as connection:
        assert connection.execute("SELECT count(*) FROM fct_plays WHERE local_hour < 12").fetchall() == [(0,)]
    assert _contents(published) == _contents(marts)


def test_a_reader_of_the_previous_copy_keeps_reading_it(marts, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(marts, published)
    reader = connect_published(published)
    plays = reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0]
    _execute(marts, "DELETE FROM fct_plays WHERE local_hour < 12")
    publish_marts(marts, published)
    assert reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] == plays
    reader.close()
    with connect_published(published) as connection:
        assert connection.execute("SELECT count(*) FROM fct_plays WHERE local_hour < 12").fetchall()[0][0] == 0
        assert 0 < connection.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] < plays


def test_a_failed_publication_leaves_the_previous_copy_in_place(marts, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(marts, published)
    before = _contents(published)
    marts.write_bytes(b"not a database")
    with pytest.raises(duckdb.Error):
        publish_marts(marts, published)
    assert _contents(published) == before
    assert not list(tmp_path.glob(".publishing-*"))


def test_a_listeners_file_holds_its_rows_only_not_even_in_free_space(marts, tmp_path):
    """With another listener's rows in the marts, each listener's file is written table by table from its own rows: a
    copy of the whole file with the others' rows deleted would still carry them in its free blocks."""
    secret = "Bobs Secret Song Nobody Else Heard"
    _execute(marts,
             f"INSERT INTO fct_plays SELECT * REPLACE ('bob' AS listener, '{secret}' AS track_name) FROM fct_plays "
             "LIMIT 40",
             f"INSERT INTO dim_track SELECT * REPLACE ('bob' AS listener, '{secret}' AS track_name) FROM dim_track LIMIT 1")
    mine, bobs = tmp_path / "marts.duckdb", tmp_path / "marts" / "bob.duckdb"
    publish_marts(marts, mine)
    publish_marts(marts, bobs, "bob")
    assert secret.encode() not in mine.read_bytes() and secret.encode() in bobs.read_bytes()
    with duckdb.connect(str(marts), read_only=True) as connection:
        defaults = connection.execute("SELECT count(*) FROM fct_plays WHERE listener = 'default'").fetchall()[0][0]
    with connect_published(mine) as connection:
        assert connection.execute("SELECT count(*) FROM fct_plays").fetchall() == [(defaults,)]
        assert "listener" not in {column for (column,) in connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'fct_plays'").fetchall()}
        assert connection.execute("SELECT count(*) FROM top_artists('1900-01-01', '2100-01-01')").fetchall()[0][0] > 0
    with connect_published(bobs) as connection:
        assert connection.execute("SELECT count(*), min(track_name) FROM fct_plays").fetchall() == [(40, secret)]
        assert connection.execute("SELECT count(*) FROM mart_heatmap_weekday_hour").fetchall() == [(0,)]
    with duckdb.connect(str(bobs), read_only=True) as connection:  # DuckDB 1.4's format, as the fast path keeps
        (tags,) = connection.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'bob'").fetchall()[0]
    assert tags["storage_version"] == "v1.4.0+"
