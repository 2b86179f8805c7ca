"""A dbt-duckdb plugin: SQL functions dbt models need that DuckDB lacks.

DuckDB has `nfc_normalize` and `lower`, but not Unicode casefolding (ß -> ss, ς -> σ, …), so the
counting rules' normalize() is registered from Python. Only table-materialized models call it:
a view calling it would fail for SQL users whose DuckDB does not have the function.
"""

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from spotify_assets.lib.identity import normalize_name


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function("normalize_name", normalize_name, [VARCHAR], VARCHAR, side_effects=False)
