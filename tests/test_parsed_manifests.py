"""dbt's parsed manifest stored between processes: found again only for the same project files, versions and
parse-time values, and as usable as one dbt has just parsed."""

import shutil

from conftest import PROJECT_ROOT
from dbt.cli.main import dbtRunner

from spotify_assets.defs.transformations.resources import _close_warehouse_connection
from spotify_assets.lib.transformations import parsed_manifests

ENVIRONMENT = {"SPOTIFY_WAREHOUSE_PATH": "/data/one/warehouse.duckdb",
               "SPOTIFY_WAREHOUSE_MARTS_PATH": "/data/one/warehouse_marts.duckdb", "SPOTIFY_TIMEZONE": "Europe/Berlin"}


def _project_copy(tmp_path):
    copy = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_the_fingerprint_follows_the_files_and_values_dbt_parses(tmp_path):
    project = _project_copy(tmp_path)
    original = parsed_manifests.fingerprint(project, ENVIRONMENT)
    # Another data directory names its warehouse file alike: the same parse serves it.
    elsewhere = {"SPOTIFY_WAREHOUSE_PATH": "/elsewhere/warehouse.duckdb", "SPOTIFY_WAREHOUSE_MARTS_PATH": "/elsewhere/warehouse_marts.duckdb"}
    assert parsed_manifests.fingerprint(project, ENVIRONMENT | elsewhere) == original
    assert parsed_manifests.fingerprint(project, ENVIRONMENT | {"SPOTIFY_TIMEZONE": "UTC"}) != original
    assert parsed_manifests.fingerprint(project, ENVIRONMENT | {"SPOTIFY_WAREHOUSE_PATH": "/data/one/other.duckdb"}) != original
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")  # dbt's own output is not parsed
    assert parsed_manifests.fingerprint(project, ENVIRONMENT) == original
    model = project / "models" / "marts" / "fct_plays.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = parsed_manifests.fingerprint(project, ENVIRONMENT)
    assert edited != original
    (project / "macros" / "new_macro.sql").write_text("{% macro new_macro() %}1{% endmacro %}")
    assert parsed_manifests.fingerprint(project, ENVIRONMENT) not in (original, edited)


def test_a_stored_manifest_resolves_refs_and_compiles_like_a_parsed_one(tmp_path, monkeypatch):
    project = _project_copy(tmp_path)
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    monkeypatch.setenv("SPOTIFY_WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv("SPOTIFY_WAREHOUSE_MARTS_PATH", str(warehouse.with_name("warehouse_marts.duckdb")))
    monkeypatch.setenv("SPOTIFY_TIMEZONE", "Europe/Berlin")
    locations = ["--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(tmp_path / "target")]
    parsed = dbtRunner().invoke(["parse", *locations, "--quiet"]).result
    store = tmp_path / "store"
    assert parsed_manifests.load(store, "key") is None
    parsed_manifests.save(store, "key", parsed)
    stored = parsed_manifests.load(store, "key")
    assert stored is not parsed and set(stored.nodes) == set(parsed.nodes)
    # dbt's own pickling hands each lookup to the next field (a ref lookup becomes the source lookup, ...).
    assert stored.ref_lookup.find("fct_plays", None, None, stored).unique_id == "model.spotify_warehouse.fct_plays"
    source = stored.source_lookup.find("spotify_api.recently_played_items", None, stored)
    assert source.unique_id == "source.spotify_warehouse.spotify_api.recently_played_items"
    compiled = {}
    for manifest in (parsed, stored):
        try:
            result = dbtRunner(manifest=manifest).invoke(
                ["compile", "--select", "stg_spotify_api__recently_played_items mart_heatmap_weekday_hour", *locations, "--quiet", "--no-write-json"])
        finally:
            _close_warehouse_connection()
        assert result.success, result.exception
        compiled[id(manifest)] = sorted(run.node.compiled_code for run in result.result.results)
    assert compiled[id(stored)] == compiled[id(parsed)]
    assert any('"marts"."main"."agg_daily_streams"' in code for code in compiled[id(parsed)])
    assert any('"warehouse"."raw"."recently_played_items"' in code for code in compiled[id(parsed)])
