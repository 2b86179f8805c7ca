"""The fingerprint of the dbt project's parse: it changes with the project's files, dbt's versions and the parse-time
values, and only with those."""

import shutil

from conftest import PROJECT_ROOT

from spotify_assets.lib.transformations import project_fingerprint

DBT_VARS = {"warehouse_path": "/data/one/warehouse.duckdb",
            "warehouse_marts_path": "/data/one/warehouse_marts.duckdb", "timezone": "Europe/Berlin"}


def _project_copy(tmp_path):
    copy = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_the_fingerprint_follows_the_files_and_values_dbt_parses(tmp_path):
    project = _project_copy(tmp_path)
    original = project_fingerprint.fingerprint(project, DBT_VARS)
    # Another data directory names its warehouse file alike: the same parse serves it.
    elsewhere = {"warehouse_path": "/elsewhere/warehouse.duckdb", "warehouse_marts_path": "/elsewhere/warehouse_marts.duckdb"}
    assert project_fingerprint.fingerprint(project, DBT_VARS | elsewhere) == original
    assert project_fingerprint.fingerprint(project, DBT_VARS | {"timezone": "UTC"}) != original
    assert project_fingerprint.fingerprint(project, DBT_VARS | {"warehouse_path": "/data/one/other.duckdb"}) != original
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")  # dbt's own output is not parsed
    assert project_fingerprint.fingerprint(project, DBT_VARS) == original
    model = project / "models" / "marts" / "fct_plays.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    edited = project_fingerprint.fingerprint(project, DBT_VARS)
    assert edited != original
    (project / "macros" / "new_macro.sql").write_text("{% macro new_macro() %}1{% endmacro %}")
    assert project_fingerprint.fingerprint(project, DBT_VARS) not in (original, edited)
