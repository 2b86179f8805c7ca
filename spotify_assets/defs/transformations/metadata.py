"""What a dbt model's materialization shows in the Dagster UI beyond dbt's own: its row count, a preview of
its top rows (marts), and a link to its page in the dbt docs site.

dbt holds DuckDB's write lock for its whole run, so nothing can read the warehouse meanwhile; the figures
are read after the run, once per model, from the warehouse the run just wrote.
"""


import duckdb
from dagster import MetadataValue

from spotify_assets.lib.warehouse import MARTS_DATABASE

PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 8


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:60]


def preview_markdown(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The first rows (by streams where the table counts them), as a markdown table of its first columns."""
    columns = [row[0] for row in connection.execute(f"DESCRIBE {relation}").fetchall()]
    shown = columns[:PREVIEW_COLUMNS]
    order = "ORDER BY streams DESC" if "streams" in columns else ""
    quoted = ", ".join(f'"{name}"' for name in shown)
    rows = connection.execute(f"SELECT {quoted} FROM {relation} {order} LIMIT {PREVIEW_ROWS}").fetchall()
    lines = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    if len(columns) > len(shown):
        lines.append(f"\n{len(columns) - len(shown)} more columns: {', '.join(columns[len(shown):])}")
    return "\n".join(lines)


def model_metadata(connection: duckdb.DuckDBPyConnection, node: dict, docs_url: str) -> dict:
    """`node`: the model's unique_id, resource_type, materialized, database, schema and alias."""
    metadata = {"dbt_docs": MetadataValue.url(f"{docs_url}/#!/{node['resource_type']}/{node['unique_id']}")}
    if node["materialized"] in ("table", "incremental", "seed"):
        relation = f'"{node["database"]}"."{node["schema"]}"."{node["alias"]}"'
        metadata["dagster/row_count"] = connection.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
        if node["database"] == MARTS_DATABASE:
            metadata["preview"] = MetadataValue.md(preview_markdown(connection, relation))
    return metadata
