"""Publishing into the previous copy leaves exactly what a copy from scratch leaves, whatever changed,
whether tables are compared row by row or in the groups dbt rewrites them in."""

import shutil

import duckdb
import pytest

from spotify_assets.publishing.assets import GROUPS_DBT_REWRITES
from spotify_assets.publishing.publish import connect_published, publish_marts


@pytest.fixture
def warehouse(demo_data_dir, tmp_path):
    """A copy of the demo's warehouse: every marts table, as dbt builds them."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_data_dir / "warehouse.duckdb", path)
    return path


@pytest.fixture(params=["rows", "groups"])
def groups(request):
    """Compared row by row, or by the groups dbt's incremental models replace (fct_plays by UTC day, ...)."""
    return GROUPS_DBT_REWRITES if request.param == "groups" else {}


def _execute(path, *statements):
    with duckdb.connect(str(path)) as connection:
        for statement in statements:
            connection.execute(statement)


def _marts(connection) -> str:
    """The marts schema, qualified: in a file named marts.duckdb a bare `marts.x` is ambiguous."""
    return f"{connection.execute('SELECT current_database()').fetchall()[0][0]}.marts"


def _contents(path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted, from a warehouse or a published file."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1").fetchall()]
        return {table: sorted(connection.execute(f"FROM {_marts(connection)}.{table}").fetchall()) for table in tables}


def test_the_first_publication_copies_every_marts_table(warehouse, groups, tmp_path):
    published = tmp_path / "marts.duckdb"
    publication = publish_marts(warehouse, published, groups)
    assert not publication.incremental
    contents = _contents(warehouse)
    assert publication.row_counts == {table: len(rows) for table, rows in contents.items()}
    assert publication.rows_written == sum(publication.row_counts.values())
    assert _contents(published) == contents
    with connect_published(published) as connection:  # the range macros are there
        assert connection.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'top_artists'"
                                  ).fetchall()[0][0] == 2  # in schema marts and in main


def test_a_republication_writes_only_changed_rows_and_equals_the_warehouse(warehouse, groups, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, groups)
    plays = publish_marts(warehouse, published, groups).row_counts["fct_plays"]
    with duckdb.connect(str(warehouse)) as connection:
        first, second = connection.execute("SELECT min(play_id), max(play_id) FROM marts.fct_plays").fetchall()[0]
        connection.execute("INSERT INTO marts.fct_plays "
                           "SELECT * REPLACE (play_id || '-new' AS play_id) FROM marts.fct_plays LIMIT 1")
        connection.execute("UPDATE marts.fct_plays SET track_name = 'renamed' WHERE play_id = ?", [first])
        changed_days = [day for (day,) in connection.execute(
            "SELECT DISTINCT played_on_utc FROM marts.fct_plays WHERE play_id IN (?, ?) OR play_id LIKE '%-new'",
            [first, second]).fetchall()]
        connection.execute("DELETE FROM marts.fct_plays WHERE play_id = ?", [second])
        plays_on_changed_days = connection.execute(
            "SELECT count(*) FROM marts.fct_plays WHERE list_contains(?, played_on_utc)", [changed_days]).fetchall()[0][0]
    publication = publish_marts(warehouse, published, groups)
    assert publication.incremental
    # Row by row: the renamed play and the new one; by groups: every play of the days that changed.
    assert publication.rows_written == (plays_on_changed_days if groups else 2)
    assert publication.row_counts["fct_plays"] == plays
    assert _contents(published) == _contents(warehouse)
    assert publish_marts(warehouse, published, groups).rows_written == 0  # nothing changed since


def test_identical_rows_and_missing_keys_within_groups_are_published_as_the_warehouse_has_them(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    copy_twice = ("INSERT INTO marts.fct_plays SELECT play.* REPLACE ('twin' AS play_id) "
                  "FROM (FROM marts.fct_plays LIMIT 1) AS play, range(2)")
    for change in (copy_twice,  # two identical rows in one day: a hash sum, unlike an exclusive or, sees them
                   "UPDATE marts.fct_plays SET track_name = 'renamed' WHERE play_id = 'twin'",  # both at once
                   "INSERT INTO marts.fct_plays SELECT * REPLACE ('undated' AS play_id, NULL AS played_on_utc) "
                   "FROM marts.fct_plays LIMIT 1",  # a row outside every day
                   "DELETE FROM marts.fct_plays WHERE played_on_utc IS NULL"):
        _execute(warehouse, change)
        publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
        assert _contents(published) == _contents(warehouse), change


def test_changed_columns_dropped_tables_and_duplicate_rows_are_published_as_the_warehouse_has_them(warehouse, groups, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, groups)
    _execute(warehouse,
             "ALTER TABLE marts.fct_plays ADD COLUMN rating INTEGER DEFAULT 5",  # a model gained a column
             "DROP TABLE marts.mart_genre_coverage",  # a model was removed
             "CREATE TABLE marts.mart_new AS SELECT 1 AS x UNION ALL SELECT 1",  # identical rows
             )
    publish_marts(warehouse, published, groups)
    assert _contents(published) == _contents(warehouse)
    _execute(warehouse, "INSERT INTO marts.mart_new VALUES (1)")  # one more identical row: hashes cannot tell
    publication = publish_marts(warehouse, published, groups)
    assert publication.row_counts["mart_new"] == 3
    assert _contents(published) == _contents(warehouse)


def test_a_copy_that_is_mostly_free_space_is_rebuilt_from_scratch(warehouse, groups, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, groups)
    _execute(warehouse, "UPDATE marts.fct_plays SET track_name = track_name || ' (live)' WHERE local_hour = 20")
    with duckdb.connect(str(published)) as connection:  # leave most of the copy's blocks free
        connection.execute("CREATE TABLE main.ballast AS SELECT range AS x, md5(range::VARCHAR) AS y FROM range(3000000)")
        connection.execute("CHECKPOINT")
        connection.execute("DROP TABLE main.ballast")
        connection.execute("CHECKPOINT")
    publication = publish_marts(warehouse, published, groups)
    assert not publication.incremental
    assert _contents(published) == _contents(warehouse)


def test_a_reader_of_the_previous_copy_keeps_reading_it(warehouse, groups, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, groups)
    reader = connect_published(published)
    plays = reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0]
    _execute(warehouse, "DELETE FROM marts.fct_plays WHERE local_hour < 12")
    publish_marts(warehouse, published, groups)
    assert reader.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] == plays
    reader.close()
    with connect_published(published) as connection:
        assert connection.execute("SELECT count(*) FROM fct_plays WHERE local_hour < 12").fetchall()[0][0] == 0
        assert 0 < connection.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0] < plays


def _group_signatures(connection, table: str, columns: list[str]) -> list[tuple]:
    """The published table's group signatures, computed afresh."""
    keys = ", ".join(columns)
    return sorted(connection.execute(
        f"SELECT {keys}, count(*), sum(hash(row)) FROM {_marts(connection)}.{table} AS row GROUP BY ALL").fetchall())


def test_the_published_groups_are_read_from_the_signatures_the_previous_publication_stored(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)  # compares groups, and stores their signatures
    with duckdb.connect(str(published), read_only=True) as connection:
        for table, columns in GROUPS_DBT_REWRITES.items():
            stored = sorted(connection.execute(f"FROM group_signatures.{table}").fetchall())
            assert stored == _group_signatures(connection, table, columns), table
    # A stored signature that disagrees with the warehouse has its group replaced, though the copy's rows
    # agree: so the stored signatures, not a new hash of the copy, are what publishing compares.
    with duckdb.connect(str(published)) as connection:
        day, plays_that_day = connection.execute(
            "SELECT played_on_utc, row_count FROM group_signatures.fct_plays ORDER BY played_on_utc LIMIT 1").fetchall()[0]
        connection.execute("UPDATE group_signatures.fct_plays SET summed_hash = summed_hash + 1 WHERE played_on_utc = ?", [day])
    assert publish_marts(warehouse, published, GROUPS_DBT_REWRITES).rows_written == plays_that_day
    assert _contents(published) == _contents(warehouse)
    assert publish_marts(warehouse, published, GROUPS_DBT_REWRITES).rows_written == 0


def test_stored_signatures_that_do_not_count_the_published_rows_are_not_trusted(warehouse, tmp_path):
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    _execute(published,  # rows added to the copy by hand, and a stored grouping that no longer fits
             "INSERT INTO marts.marts.fct_plays SELECT * REPLACE ('by hand' AS play_id) FROM marts.marts.fct_plays LIMIT 1",
             "ALTER TABLE group_signatures.agg_track_buckets RENAME COLUMN bucket_start TO start")
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    assert _contents(published) == _contents(warehouse)
    with duckdb.connect(str(published), read_only=True) as connection:
        stored = sorted(connection.execute("FROM group_signatures.agg_track_buckets").fetchall())
        assert stored == _group_signatures(connection, "agg_track_buckets", GROUPS_DBT_REWRITES["agg_track_buckets"])


def test_signatures_do_not_outlive_a_publication_that_compared_the_table_another_way(warehouse, tmp_path):
    """A model whose unique_key comes and goes: its table is compared by groups, then row by row, then by groups
    again; the signatures of the first comparison must not describe the copy the second one left."""
    published = tmp_path / "marts.duckdb"
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)  # signatures stored
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        play_id, name = connection.execute("SELECT play_id, track_name FROM marts.fct_plays LIMIT 1").fetchall()[0]
    renamed = f"UPDATE marts.fct_plays SET track_name = 'renamed' WHERE play_id = '{play_id}'"
    restored = f"UPDATE marts.fct_plays SET track_name = '{name.replace(chr(39), chr(39) * 2)}' WHERE play_id = '{play_id}'"
    _execute(warehouse, renamed)
    publish_marts(warehouse, published, {})  # row by row: the copy has the new name
    _execute(warehouse, restored)  # back as it was when the signatures were stored
    publish_marts(warehouse, published, GROUPS_DBT_REWRITES)
    assert _contents(published) == _contents(warehouse)
