"""Where things live and which time zone counts, read from the environment when they are used.

Every setting has a default that works on a laptop, so the demo needs no configuration. The values
are read at run time (never at import), so one code location serves whatever environment the
webserver, the daemon, a run worker or a test gives it.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagster import ConfigurableResource

DEFAULT_DATA_DIR = "./data"
DEFAULT_TIMEZONE = "UTC"


class SpotifySettings(ConfigurableResource):
    """Every setting of the warehouse and its enrichment (the API clients' own are fields of their resources). Unset
    fields fall back to the environment variable named beside them, then to the default (README, "Settings").
    """

    data_dir: str | None = None  # SPOTIFY_DATA_DIR, ./data
    inbox: str | None = None  # SPOTIFY_INBOX, $SPOTIFY_DATA_DIR/inbox
    timezone: str | None = None  # SPOTIFY_TIMEZONE (IANA name), UTC
    catalog_lookups_per_run: int | None = None  # SPOTIFY_CATALOG_LOOKUPS_PER_RUN, 200
    catalog_requests_per_second: float | None = None  # SPOTIFY_CATALOG_REQUESTS_PER_SECOND, 10
    lastfm_lookups_per_run: int | None = None  # LASTFM_LOOKUPS_PER_RUN, 300 (tracks and artists each)
    dbt_docs_url: str | None = None  # SPOTIFY_DBT_DOCS_URL, http://127.0.0.1:8080: where the UI's model links point

    @property
    def catalog_lookups(self) -> int:
        return int(_setting(self.catalog_lookups_per_run, "SPOTIFY_CATALOG_LOOKUPS_PER_RUN", 200))

    @property
    def catalog_pause_seconds(self) -> float:
        # Well inside Spotify's rolling 30 s window by default; 429s are honoured anyway.
        return 1.0 / float(_setting(self.catalog_requests_per_second, "SPOTIFY_CATALOG_REQUESTS_PER_SECOND", 10.0))

    @property
    def lastfm_lookups(self) -> int:
        return int(_setting(self.lastfm_lookups_per_run, "LASTFM_LOOKUPS_PER_RUN", 300))

    @property
    def dbt_docs_base_url(self) -> str:
        return str(_setting(self.dbt_docs_url, "SPOTIFY_DBT_DOCS_URL", "http://127.0.0.1:8080")).rstrip("/")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir or os.environ.get("SPOTIFY_DATA_DIR") or DEFAULT_DATA_DIR).resolve()

    @property
    def inbox_path(self) -> Path:
        configured = self.inbox or os.environ.get("SPOTIFY_INBOX")
        return Path(configured).resolve() if configured else self.data_path / "inbox"

    @property
    def landing_path(self) -> Path:
        return self.data_path / "landing"

    @property
    def exports_landing_path(self) -> Path:
        return self.landing_path / "exports"

    @property
    def warehouse_path(self) -> Path:
        return self.data_path / "warehouse.duckdb"

    @property
    def warehouse_marts_path(self) -> Path:
        """The warehouse's marts schema, in a file of its own that dbt writes and publishing copies whole."""
        return self.data_path / "warehouse_marts.duckdb"

    @property
    def published_marts_path(self) -> Path:
        return self.data_path / "marts.duckdb"

    @property
    def reports_path(self) -> Path:
        """The listening report (HTML) and its heatmap snapshot (PNG)."""
        return self.data_path / "reports"

    @property
    def dbt_target_path(self) -> Path:
        """dbt's working files for builds of this data directory. One fixed folder, reused: dbt's partial
        parsing (its parse cache is only valid for the same profile, i.e. the same warehouse path) then works
        from the second build on, and nothing piles up."""
        return self.data_path / "dbt_target"

    @property
    def dbt_docs_path(self) -> Path:
        """The generated dbt docs site that `spotify-assets docs` serves."""
        return self.data_path / "dbt_docs"

    @property
    def timezone_name(self) -> str:
        name = self.timezone or os.environ.get("SPOTIFY_TIMEZONE") or DEFAULT_TIMEZONE
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"SPOTIFY_TIMEZONE={name!r} is not an IANA time zone name (e.g. Europe/Berlin)") from error
        return name

    def dbt_vars(self) -> dict[str, str]:
        """What dbt's profile and project take from these settings (`--vars`): the warehouse files, absolute, and
        the time zone."""
        return {"warehouse_path": str(self.warehouse_path), "warehouse_marts_path": str(self.warehouse_marts_path),
                "timezone": self.timezone_name}

    def dbt_environment(self) -> dict[str, str]:
        """The same values as the environment variables a dbt command in a process of its own falls back to
        (dbt_project/profiles.yml, dbt_project.yml)."""
        names = {"warehouse_path": "SPOTIFY_WAREHOUSE_PATH", "warehouse_marts_path": "SPOTIFY_WAREHOUSE_MARTS_PATH",
                 "timezone": "SPOTIFY_TIMEZONE"}
        return {names[name]: value for name, value in self.dbt_vars().items()}


def _setting(value, variable: str, default):
    """The field's value when set, else the environment variable's (read when used, never at import), else the
    default."""
    if value is not None:
        return value
    return os.environ.get(variable) or default
