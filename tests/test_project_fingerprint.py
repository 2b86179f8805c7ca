"""The fingerprint of the dbt project's parse: it changes with the project's files, dbt's versions and the parse-time
values, and only with those."""

import shutil

from conftest import PROJECT_ROOT

from spotify_assets.lib.transformations import project_fingerprint

ENVIRONMENT = {"SPOTIFY_WAREHOUSE_PATH": "/data/one/warehouse.duckdb",
               "SPOTIFY_WAREHOUSE_MARTS_PATH": "/data/one/warehouse_marts.duckdb", "SPOTIFY_TIMEZONE": "Europe/Berlin"}


def _project_copy(tmp_path):
    copy = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_the_fingerprint_follows_the_files_and_values_dbt_parses(tmp_path):
    project = _project_copy(tmp_path)
    original = project_fingerprint.fingerprint(project, ENVIRONMENT)
    # Another data directory names its warehouse file alike: the same parse serves it.
    elsewhere = {"SPOTIFY_WAREHOUSE_PATH": "/elsewhere/warehouse.duckdb", "SPOTIFY_WAREHOUSE_MARTS_PATH": "/elsewhere/warehouse_marts.duckdb"}
    assert project_fingerprint.fingerprint(project, ENVIRONMENT | elsewhere) == original
    assert project_fingerprint.fingerprint(project, ENVIRONMENT | {"SPOTIFY_TIMEZONE": "UTC"}) != original
    assert project_fingerprint.fingerprint(project, ENVIRONMENT | {"SPOTIFY_WAREHOUSE_PATH": "/data/one/other.duckdb"}) != original
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")  # dbt's own output is not parsed
    assert project_fingerprint.fingerprint(project, ENVIRONMENT) == original
    model = project / "models" / "marts" / "fct_plays.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = project_fingerprint.fingerprint(project, ENVIRONMENT)
    assert edited != original
    (project / "macros" / "new_macro.sql").write_text("{% macro new_macro() %}1{% endmacro %}")
    assert project_fingerprint.fingerprint(project, ENVIRONMENT) not in (original, edited)
