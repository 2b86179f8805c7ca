"""dagster-dbt's resource without two fixed costs this project never uses.

Before each dbt command, DbtCliResource runs `dbt --version` in a subprocess (about 2 s: it may be the
Fusion engine) and loads a dbt adapter into the Dagster process (about 2.4 s: only for fetching column
metadata and row counts through dbt, which transformations/metadata.py does with DuckDB directly). The dbt
here is always the dbt-core installed beside this Python (pinned in pyproject.toml), so its version is
known without asking, and no adapter is needed. bench/RESULTS.md has the before and after figures.
"""

from functools import cached_property

from dagster_dbt import DbtCliResource
from dbt.version import __version__ as DBT_CORE_VERSION
from packaging import version


class WarehouseDbtResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(DBT_CORE_VERSION)

    def _initialize_dbt_core_adapter(self, args):
        return None
