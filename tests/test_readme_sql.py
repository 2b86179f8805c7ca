"""Every SQL example in the README, typed into DuckDB's command-line tool from PyPI (duckdb-cli 1.5, the one a
user installs today), against the file `make demo` publishes: each one opens the file directly, with nothing set
first, and returns rows."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_ROOT, cli_environment
from fakes.lastfm_server import FakeLastfm, FakeTrack
from fakes.lastfm_tags import artist_tags, track_tags

from spotify_assets.lib.synthetic.exports import SyntheticHistory

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
    """`make demo` as the README runs it (20,000 plays, seed 42, UTC), then one Last.fm pass against the fake
    Last.fm for the genre examples."""
    data_dir = tmp_path_factory.mktemp("readme") / "data"
    environment = cli_environment(data_dir)
    tool = str(Path(sys.executable).with_name("spotify-assets"))
    subprocess.run([tool, "demo"], env=environment, check=True, capture_output=True, timeout=900)
    history = SyntheticHistory.generate()  # the demo's history again (deterministic), for its tags
    with FakeLastfm() as fake:
        for play in history.plays:
            if play.kind == "music":
                tags = track_tags(play.item.artist, play.item.name)
                if tags is not None:
                    fake.tracks[(play.item.artist.lower(), play.item.name.lower())] = FakeTrack(tags=tags)
                if (tags := artist_tags(play.item.artist)) is not None:
                    fake.artists[play.item.artist.lower()] = tags
        enrich = environment | {"LASTFM_API_KEY": fake.api_key, "LASTFM_API_BASE_URL": fake.base_url,
                                "LASTFM_REQUESTS_PER_SECOND": "1000", "LASTFM_LOOKUPS_PER_RUN": "100000"}
        subprocess.run([tool, "enrich"], env=enrich, check=True, capture_output=True, timeout=900)
    return data_dir


def test_the_readme_has_examples_of_every_macro_and_of_both_names():
    queries = readme_queries()
    for name in ("top_artists(", "top_tracks(", "heatmap(", "hour_drilldown(", "top_genres("):
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
