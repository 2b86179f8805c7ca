"""Every SQL example in the README, typed into DuckDB's command-line tool from PyPI (duckdb-cli 1.5, the one a
user installs today), against the file `make demo` publishes: each one opens the file directly, with nothing set
first, and returns rows. `spotify-assets sql` answers them too, every row when piped, as CSV or as JSON."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, cli_environment

pytestmark = pytest.mark.slow
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def readme_queries() -> list[str]:
    """The statements of the README's ```sql blocks, and the queries its shell and Python examples quote."""
    text = (PROJECT_ROOT / "README.md").read_text()
    queries = []
    for block in re.findall(r"```sql\n(.*?)```", text, re.S):
        code = "\n".join(line.split("--")[0] for line in block.splitlines())
        queries += [" ".join(statement.split()) for statement in code.split(";") if statement.strip()]
    for block in re.findall(r"```(?:sh|python)\n(.*?)```", text, re.S):
        queries += re.findall(r'"(SELECT [^"]+)"', block)
    return queries


@pytest.fixture(scope="module")
def readme_demo(tmp_path_factory) -> Path:
    """`make demo` as the README runs it (20,000 plays, seed 42, UTC): its genres come from the simulated Last.fm the
    demo asks, so the genre examples answer too (they returned nothing on the demo before)."""
    data_dir = tmp_path_factory.mktemp("readme") / "data"
    tool = str(Path(sys.executable).with_name("spotify-assets"))
    subprocess.run([tool, "demo"], env=cli_environment(data_dir), check=True, capture_output=True, timeout=900)
    return data_dir


def test_the_readme_has_examples_of_every_macro_and_of_both_names():
    queries = readme_queries()
    for name in ("top_artists(", "top_tracks(", "heatmap(", "hour_drilldown(", "top_genres(", "most_skipped_tracks(",
                 "new_artists(", "current_streak(", "playlist_tracks_never_streamed("):
        assert any(name in query for query in queries), name
    assert any("FROM marts." in query for query in queries)  # the file's own name
    assert len(queries) >= 15


def test_the_command_line_tool_from_pypi_opens_the_demo_file_directly(readme_demo):
    version = subprocess.run([str(DUCKDB_CLI), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5."), version  # older than the DuckDB that wrote the file
    with duckdb.connect(str(readme_demo / "marts.duckdb"), read_only=True) as connection:
        (tags,) = connection.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'marts'").fetchall()[0]
    assert tags["storage_version"] == "v1.4.0+"  # what DuckDB 1.4 and later read


@pytest.mark.parametrize("query", readme_queries())
def test_every_readme_query_returns_rows_in_the_command_line_tool(readme_demo, query):
    completed = subprocess.run([str(DUCKDB_CLI), "-readonly", "-json", str(readme_demo / "marts.duckdb"), "-c", query],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(completed.stdout or "[]")
    assert rows, f"no rows: {query}"


def test_the_sql_command_is_a_client_a_script_can_use(readme_demo):
    """`spotify-assets sql` cut its output at 100 rows, had no machine-readable format and took one statement."""
    tool = str(Path(sys.executable).with_name("spotify-assets"))
    environment = cli_environment(readme_demo)

    def sql(*arguments) -> subprocess.CompletedProcess:
        return subprocess.run([tool, "sql", *arguments], env=environment, capture_output=True, text=True, timeout=120)

    with duckdb.connect(str(readme_demo / "marts.duckdb"), read_only=True) as connection:
        days = connection.execute("SELECT local_date, streams FROM mart_heatmap_calendar ORDER BY local_date").fetchall()
    assert len(days) > 700
    as_csv = sql("--csv", "SELECT local_date, streams FROM mart_heatmap_calendar ORDER BY local_date")
    assert as_csv.returncode == 0 and as_csv.stderr == ""
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "local_date,streams" and lines[1:] == [f"{day},{streams}" for day, streams in days]
    as_json = sql("--json", "SELECT local_date, streams FROM mart_heatmap_calendar ORDER BY local_date")
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [
        {"local_date": str(day), "streams": streams} for day, streams in days]
    table = sql("SELECT local_date, streams FROM mart_heatmap_calendar ORDER BY local_date")  # piped: every row
    assert table.returncode == 0 and str(days[-1][0]) in table.stdout and str(days[0][0]) in table.stdout
    shown = sql("--max-rows", "5", "SELECT local_date FROM mart_heatmap_calendar ORDER BY local_date")
    assert str(days[4][0]) in shown.stdout and str(days[5][0]) not in shown.stdout
    assert f"({len(days) - 5:,} more rows" in shown.stdout
    several = sql("--csv", "SET threads = 1; CREATE TEMP TABLE pick AS SELECT 7 AS n; SELECT n * 6 AS answer FROM pick")
    assert several.returncode == 0 and several.stdout.splitlines() == ["answer", "42"], several.stderr
