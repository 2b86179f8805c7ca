"""Where things live and which time zone counts: the settings a run reads, as a Dagster resource.

Every value is read when it is used (never at import), so one code location serves whatever the webserver, the
daemon, a run worker or a test gives it: a field set on the resource wins, then the environment variable, then the
data folder's settings file (`spotify-assets config set`), then the default (lib/configuration.py has them all).
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from spotify_assets.lib import configuration, listeners


class SpotifySettings(ConfigurableResource):
    """Every setting of the warehouse and its enrichment (the API clients' roots and paces are read by their
    resources, from the same file). Unset fields fall back to lib/configuration.py's resolution."""

    data_dir: str | None = None  # SPOTIFY_DATA_DIR, ./data
    inbox: str | None = None  # inbox
    timezone: str | None = None  # timezone (IANA name)
    catalog_lookups_per_run: int | None = None  # catalog_lookups_per_run
    catalog_requests_per_second: float | None = None  # catalog_requests_per_second
    lastfm_lookups_per_run: int | None = None  # lastfm_lookups_per_run (tracks and artists each)
    dbt_docs_url: str | None = None  # dbt_docs_url: where the UI's model links point
    listener: str | None = None  # whose landing, inbox, report and published marts (None: `default`)

    def setting(self, key: str):
        """A setting's value for this data folder (and for the listener's own settings, this listener): the field of
        the same name when set, else as resolved."""
        field = getattr(self, key) if key in type(self).model_fields else None
        if field is None:
            if key in listeners.OWN_SETTINGS:
                return self.listener_info.setting(key)
            return configuration.resolve(key, self.data_path).value
        try:
            return configuration.BY_KEY[key].parse(str(field))
        except ValueError as error:
            raise ValueError(f"{key}={field!r}: {error}") from None

    @property
    def listener_name(self) -> str:
        return self.listener or listeners.DEFAULT_LISTENER

    @property
    def listener_info(self) -> listeners.Listener:
        return listeners.Listener(listeners.check_name(self.listener_name), self.data_path)

    def for_listener(self, name: str | None) -> SpotifySettings:
        """The same settings for another listener of the installation (ValueError when it has none of that name)."""
        listeners.listener(self.data_path, name)
        return SpotifySettings(**{**{field: getattr(self, field) for field in type(self).model_fields},
                                  "listener": name})

    @property
    def catalog_lookups(self) -> int:
        return int(self.setting("catalog_lookups_per_run"))

    @property
    def catalog_pause_seconds(self) -> float:
        # Well inside Spotify's rolling 30 s window by default; 429s are honoured anyway.
        return 1.0 / float(self.setting("catalog_requests_per_second"))

    @property
    def lastfm_lookups(self) -> int:
        return int(self.setting("lastfm_lookups_per_run"))

    @property
    def reccobeats_lookups(self) -> int:
        return int(self.setting("reccobeats_lookups_per_run"))

    @property
    def dbt_docs_base_url(self) -> str:
        return str(self.setting("dbt_docs_url")).rstrip("/")

    @property
    def data_path(self) -> Path:
        return configuration.data_path(self.data_dir)

    @property
    def inbox_path(self) -> Path:
        configured = self.setting("inbox")
        return Path(configured).resolve() if configured else self.listener_info.folder / "inbox"

    @property
    def landing_path(self) -> Path:
        """The listener's landing: what it exported, what its polls and Spotify's view of it returned."""
        return self.listener_info.landing_path

    @property
    def shared_landing_path(self) -> Path:
        """What enrichment asked about the music, once for every listener (the catalog, Last.fm, audio features)."""
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
        """The listener's published marts: marts.duckdb for `default`, marts/<listener>.duckdb for the others."""
        return self.listener_info.published_marts_path

    @property
    def reports_path(self) -> Path:
        """The listener's listening report (HTML) and its heatmap snapshot (PNG)."""
        return self.listener_info.reports_path

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
        """This listener's zone, the one its figures are in."""
        return self.setting("timezone")

    @property
    def warehouse_timezone_name(self) -> str:
        """The default listener's zone, which the warehouse's fingerprint and dbt's `timezone` var follow (another
        listener's zone comes to the models through raw.listeners)."""
        if self.timezone is not None:
            return self.setting("timezone")
        return configuration.resolve("timezone", self.data_path).value

    def dbt_vars(self) -> dict[str, str]:
        """What dbt's profile and project take from these settings (`--vars`): the warehouse files, absolute, the time
        zone, and DuckDB's memory cap."""
        return {"warehouse_path": str(self.warehouse_path), "warehouse_marts_path": str(self.warehouse_marts_path),
                "timezone": self.warehouse_timezone_name, "duckdb_memory_limit": str(self.setting("duckdb_memory_limit"))}

    def dbt_environment(self) -> dict[str, str]:
        """The same values as the environment variables a dbt command in a process of its own falls back to
        (dbt_project/profiles.yml, dbt_project.yml)."""
        names = {"warehouse_path": "SPOTIFY_WAREHOUSE_PATH", "warehouse_marts_path": "SPOTIFY_WAREHOUSE_MARTS_PATH",
                 "timezone": "SPOTIFY_TIMEZONE", "duckdb_memory_limit": "SPOTIFY_DUCKDB_MEMORY_LIMIT"}
        return {names[name]: value for name, value in self.dbt_vars().items()}

