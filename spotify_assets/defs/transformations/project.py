"""The dbt project, on its own so `dagster-dbt project prepare-and-package` can import it alone."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is rebuilt from the SQL on start; everywhere else it is built ahead
# (`make install` runs `dbt parse`), never at import time.
dbt_project.prepare_if_dev()
