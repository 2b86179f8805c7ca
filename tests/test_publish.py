"""Publishing into the previous copy leaves exactly what a copy from scratch leaves, whatever changed."""

import shutil

import duckdb
import pytest

from spotify_assets.publishing.publish import connect_published, publish_marts


@pytest.fixture
def warehouse(demo_data_dir, tmp_path):
    """A copy of the demo's warehouse: every marts table, as dbt builds them."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_data_dir / "warehouse.duckdb", path)
    return path


def _execute(path, *statements):
    with duckdb.connect(str(path)) as connection:
        for statement in statements:
            connection.execute(statement)


def _contents(path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted, from a warehouse or a published file."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]
        prefix = f"{connection.execute('SELECT current_database()').fetchall()[0][0]}.marts"
        return {table: sorted(connection.execute(f"FROM {prefix}.{table}").fetchall()) for table in tables}


def test_the_first_publication_copies_every_marts_table(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publication = publish_marts(warehouse, published)
    assert not publication.incremental
    contents = _contents(warehouse)
    assert publication.row_counts == {table: len(rows) for table, rows in contents.items()}
    assert publication.rows_written == sum(publication.row_counts.values())
    assert _contents(published) == contents
    with connect_published(published) as connection:  # the range macros are there
        assert connection.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'top_artists'"
                                  ).fetchall()[0][0] == 2  # in schema marts and in main


def test_a_republication_writes_only_changed_rows_and_equals_the_warehouse(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published)
    plays = publish_marts(warehouse, published).row_counts["fct_plays"]
    first, second = "(SELECT min(play_id) FROM marts.fct_plays)", "(SELECT max(play_id) FROM marts.fct_plays)"
    _execute(warehouse,
             "INSERT INTO marts.fct_plays SELECT * REPLACE (play_id || '-new' AS play_id) FROM marts.fct_plays LIMIT 1",
             f"UPDATE marts.fct_plays SET track_name = 'renamed' WHERE play_id = {first}",
             f"DELETE FROM marts.fct_plays WHERE play_id = {second}")
    publication = publish_marts(warehouse, published)
    assert publication.incremental
    assert publication.rows_written == 2  # the renamed play and the new one
    assert publication.row_counts["fct_plays"] == plays
    assert _contents(published) == _contents(warehouse)
    assert publish_marts(warehouse, published).rows_written == 0  # nothing changed since


def test_changed_columns_dropped_tables_and_duplicate_rows_are_published_as_the_warehouse_has_them(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published)
    _execute(warehouse,
             "ALTER TABLE marts.fct_plays ADD COLUMN rating INTEGER DEFAULT 5",  # a model gained a column
             "DROP TABLE marts.mart_genre_coverage",  # a model was removed
             "CREATE TABLE marts.mart_new AS SELECT 1 AS x UNION ALL SELECT 1",  # identical rows
             )
    publish_marts(warehouse, published)
    assert _contents(published) == _contents(warehouse)
    _execute(warehouse, "INSERT INTO marts.mart_new VALUES (1)")  # one more identical row: hashes cannot tell
    publication = publish_marts(warehouse, published)
    assert publication.row_counts["mart_new"] == 3
    assert _contents(published) == _contents(warehouse)


def test_a_copy_that_is_mostly_free_space_is_rebuilt_from_scratch(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published)
    _execute(warehouse, "UPDATE marts.fct_plays SET track_name = track_name || ' (live)' WHERE local_hour = 20")
    with duckdb.connect(str(published)) as connection:  # leave most of the copy's blocks free
        connection.execute("CREATE TABLE main.ballast AS SELECT range AS x, md5(range::VARCHAR) AS y FROM range(3000000)")
        connection.execute("CHECKPOINT")
        connection.execute("DROP TABLE main.ballast")
        connection.execute("CHECKPOINT")
    publication = publish_marts(warehouse, published)
    assert not publication.incremental
    assert _contents(published) == _contents(warehouse)


def test_a_reader_of_the_previous_copy_keeps_reading_it(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published)
    reader = connect_published(published)
    plays = reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0]
    _execute(warehouse, "DELETE FROM marts.fct_plays WHERE local_hour < 12")
    publish_marts(warehouse, published)
    assert reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] == plays
    reader.close()
    with connect_published(published) as connection:
        assert connection.execute("SELECT count(*) FROM fct_plays WHERE local_hour < 12").fetchall()[0][0] == 0
        assert 0 < connection.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] < plays
