"""The dbt project, on its own so `dagster-dbt project prepare-and-package` can import it alone."""

from dagster_dbt import DbtProject

from spotify_assets.lib.transformations import DBT_PROJECT_DIR

# Its manifest is built ahead, never at import time: by `make install`, and by every `spotify-assets` command
# (`ui` included) whenever a file of the dbt project changed since (cli/prepare.py).
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
