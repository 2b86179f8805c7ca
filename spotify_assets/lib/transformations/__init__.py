"""The dbt project's files, as the warehouse build and the docs site see them (no Dagster here)."""

from pathlib import Path

# The dbt project (models, macros, seeds, profiles.yml) at the repository's root.
DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
