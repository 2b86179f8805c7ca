"""`spotify-assets sql QUERY`: SQL against the published marts, read-only, as a client a script can rely on.

Several statements run in order and the last one's rows are printed: as a table (40 rows on a terminal, saying how
many more there are; every row when the output goes to a file or a pipe), as CSV with a header, or as JSON Lines.
Rows are fetched in batches, so a large result streams; a reader that goes away (`| head`) ends it quietly.
"""

from __future__ import annotations

import csv
import json
import sys

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.settings import SpotifySettings

TERMINAL_ROWS = 40
_BATCH = 10_000


def run_sql(settings: SpotifySettings, query: str, output: str = "table", max_rows: int | None = None) -> None:
    import duckdb

    from spotify_assets.lib.publishing.publish import connect_published

    if not settings.published_marts_path.exists():
        raise CommandFailed(f"{settings.published_marts_path} does not exist yet: run `spotify-assets demo` or `build`")
    connection = connect_published(settings.published_marts_path)
    try:
        if output == "table":
            _table(connection.sql(query), max_rows)
            return
        cursor = connection.execute(query)
        if cursor.description is None:
            return
        columns = [column[0] for column in cursor.description]
        if output == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(columns)
            _stream(cursor, lambda rows: writer.writerows(["" if value is None else value for value in row]
                                                          for row in rows))
        else:
            _stream(cursor, lambda rows: sys.stdout.write("".join(
                json.dumps(dict(zip(columns, row)), ensure_ascii=False, default=str) + "\n" for row in rows)))
    except duckdb.Error as error:  # a user's SQL error: one line, not a traceback
        raise CommandFailed(str(error).strip().splitlines()[0]) from None
    finally:
        connection.close()


def _stream(cursor, write) -> None:
    while rows := cursor.fetchmany(_BATCH):
        write(rows)
        if terminal.pipe_closed():
            return


def _table(relation, max_rows: int | None) -> None:
    """DuckDB's own drawing of the rows; on a terminal the first `max_rows` (TERMINAL_ROWS by default)."""
    if relation is None:  # the last statement returns no rows (SET, PRAGMA, ...)
        return
    limit = max_rows or (TERMINAL_ROWS if sys.stdout.isatty() else None)
    total = relation.shape[0]
    shown = relation.limit(limit) if limit and total > limit else relation
    shown.show(max_rows=max(1, min(total, limit or total)), max_width=100_000 if not sys.stdout.isatty() else None,
               max_col_width=200)
    if limit and total > limit:
        print(f"({total - limit:,} more rows: `--max-rows N` shows more, `--csv` or `--json` every row)")
