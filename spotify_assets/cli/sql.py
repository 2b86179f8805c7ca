"""`spotify-assets sql QUERY`: SQL against the published marts, read-only."""

from __future__ import annotations

from spotify_assets.cli.runs import CommandFailed
from spotify_assets.settings import SpotifySettings


def run_sql(settings: SpotifySettings, query: str) -> None:
    from spotify_assets.lib.publishing.publish import connect_published

    if not settings.published_marts_path.exists():
        raise CommandFailed(f"{settings.published_marts_path} does not exist yet: run `spotify-assets demo` or `build`")
    connection = connect_published(settings.published_marts_path)
    try:
        relation = connection.sql(query)
        if relation is not None:
            relation.show(max_width=200, max_rows=100)
    except Exception as error:  # a user's SQL error: one line, not a traceback
        raise CommandFailed(str(error).splitlines()[0]) from None
    finally:
        connection.close()
