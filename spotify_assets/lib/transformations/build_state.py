"""What the warehouse's models were built from, so a change of setting or code never publishes stale figures.

Incremental models keep the rows earlier runs computed: after a change of the time zone every local date and
hour they hold is wrong, and after a change of a model its older rows follow the old SQL. So the warehouse
records a fingerprint of everything its rows depend on (the dbt project's files, dbt's versions, the time zone,
the Python name normalization) after each complete, successful build, in `warehouse_build.json` beside it. A build that finds another fingerprint
rebuilds every model from raw (`dbt build --full-refresh`); a partial run (the update after a poll)
refuses with one line naming the fix, since rebuilding part of the models would mix old and new rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from spotify_assets.lib import configuration
from spotify_assets.lib.transformations import DBT_PROJECT_DIR, project_fingerprint
from spotify_assets.lib.warehouse import warehouse_connection

if TYPE_CHECKING:  # the settings are a Dagster resource; lib reads only their values, and imports no Dagster
    from spotify_assets.settings import SpotifySettings

# Python code whose results the models store: the name normalization behind every key.
_PYTHON_SOURCES = (Path(__file__).resolve().parents[1] / "identity.py",)


def current_fingerprint(settings: SpotifySettings) -> str:
    digest = hashlib.sha256(project_fingerprint.fingerprint(DBT_PROJECT_DIR, settings.dbt_vars()).encode())
    for source in _PYTHON_SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def other_listeners_zones(settings: SpotifySettings) -> dict[str, str]:
    """The time zone of every listener but `default` (whose zone is the timezone setting), by name."""
    from spotify_assets.lib.listeners import DEFAULT_LISTENER, Listener, listener_names

    return {name: Listener(name, settings.data_path).setting("timezone")
            for name in listener_names(settings.data_path) if name != DEFAULT_LISTENER}


def _state_path(settings: SpotifySettings) -> Path:
    """A file beside the warehouse, so a reader needs no DuckDB lock (a build may hold it) to learn it."""
    return settings.data_path / "warehouse_build.json"


def built_with(settings: SpotifySettings) -> dict | None:
    """{fingerprint, timezone, built_at} of the last complete build, or None before the first."""
    try:
        return json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return None


def record_build(settings: SpotifySettings, fingerprint: str) -> None:
    _write(settings, {"fingerprint": fingerprint, "timezone": settings.warehouse_timezone_name,
                      "listener_timezones": other_listeners_zones(settings),
                      "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})


def _write(settings: SpotifySettings, state: dict) -> None:
    path = _state_path(settings)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state, indent=2))
    os.replace(partial, path)


def require_rebuild(settings: SpotifySettings, reason: str) -> None:
    """Make the next build a full rebuild, saying why (an export was removed: incremental models keep its plays)."""
    state = built_with(settings) or {}
    state["rebuild_reason"] = reason
    _write(settings, state)


def clear_marts(settings: SpotifySettings) -> None:
    """Before a full rebuild: the marts file goes (it holds nothing but marts, which the rebuild writes again), so it
    is created anew in the current layout and storage format; so does the `marts` schema that warehouses from
    before the marts had a file of their own kept in warehouse.duckdb (it would make `marts.x` ambiguous)."""
    for path in (settings.warehouse_marts_path, settings.warehouse_marts_path.with_name(
            settings.warehouse_marts_path.name + ".wal")):
        path.unlink(missing_ok=True)
    with warehouse_connection(settings) as connection:
        connection.execute("DROP SCHEMA IF EXISTS marts CASCADE")


def stale_reason(settings: SpotifySettings, fingerprint: str, connection=None) -> str | None:
    """Why the models' rows no longer match the settings and code, or None when they do or none exist yet. With a
    `connection` to the warehouse, a warehouse holding only raw tables counts as having no models yet; without one
    (a reader that must not wait for DuckDB's lock), any warehouse without a recorded build counts as stale."""
    recorded = built_with(settings)
    if recorded is None:
        if not settings.warehouse_path.exists() or (connection is not None and not _has_models(connection)):
            return None
        return "the warehouse has no record of a complete build (an earlier version of this project, or a failed build)"
    if recorded.get("rebuild_reason"):
        return recorded["rebuild_reason"]
    # Another listener's zone (the default listener's is in the fingerprint); one added or removed changes no row of
    # the others, and its own rows arrive with its data or leave with it.
    before, now = recorded.get("listener_timezones", {}), other_listeners_zones(settings)
    changed = [f"{name}'s from {before[name]} to {zone}" for name, zone in now.items()
               if name in before and before[name] != zone]
    if changed:
        return f"the time zone of a listener changed ({'; '.join(changed)}) since the warehouse was built"
    if recorded.get("fingerprint") == fingerprint:
        return None
    if recorded.get("timezone") != settings.warehouse_timezone_name:
        source = (configuration.resolve("timezone", settings.data_path).source if settings.timezone is None
                  else "resource configuration")
        keep = (f"; `spotify-assets config set timezone {recorded.get('timezone')}` keeps a zone for every command"
                if source == configuration.DEFAULT else "")
        return (f"the time zone changed from {recorded.get('timezone')} to {settings.warehouse_timezone_name} ({source}) since "
                f"the warehouse was built{keep}")
    return "the dbt project (or the versions of dbt) changed since the warehouse was built"


def _has_models(connection) -> bool:
    return bool(connection.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                                   "AND schema_name = 'intermediate' LIMIT 1").fetchall())
