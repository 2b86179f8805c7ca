"""Taking an export out again (`spotify-assets exports remove`): a file that is not an export, or an export imported
by mistake. Landing is otherwise never changed; this is the one way out, and it is asked for by name.

The export leaves landing first (renamed, lib/exports/landing.py), then its rows leave the raw tables in one
transaction, then its folder goes. The warehouse's models still hold its plays until the next build, which is a full
rebuild (build_state.require_rebuild), because incremental models only ever add what is new. A removal stopped at any
point is finished by the next removal or build (finish_removals), so nothing half-removed stays.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from spotify_assets.lib.exports.importing import delete_export_rows
from spotify_assets.lib.exports.landing import removals_under_way
from spotify_assets.lib.raw_tables import create_raw_tables


def finish_removals(connection, exports_landing: Path) -> list[str]:
    """Delete the raw rows and the folder of every export whose removal started; returns their names."""
    finished = []
    for removed in removals_under_way(exports_landing):
        create_raw_tables(connection)
        connection.execute("BEGIN TRANSACTION")
        try:
            delete_export_rows(connection, removed.export_hash)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        shutil.rmtree(removed.directory, ignore_errors=True)
        finished.append(removed.name)
    return finished
