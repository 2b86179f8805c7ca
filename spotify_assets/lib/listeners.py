"""The listeners one installation serves, and where each one's files live.

The single-listener setup is the listener `default`: its settings are the settings file's top level, its
credentials `spotify.env`, its inbox, landing, report and published marts the data folder's own, as they always were.
Every other listener is a table `[listeners.<name>]` in the same settings file (its time zone, its inbox, whether it
shares with friends), and a folder `listeners/<name>/` in the data folder holding its credentials file (0600), its
inbox (unless it names another), its landing and its report; its published marts are `marts/<name>.duckdb`.
Enrichment that is about the music, not the listener (the Spotify catalog, Last.fm tags, audio features, catalog
files), is asked once for everybody and stays in the data folder's own landing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from spotify_assets.lib import configuration

DEFAULT_LISTENER = "default"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
LISTENERS_FOLDER = "listeners"
MARTS_FOLDER = "marts"
# What each listener sets for itself; everything else (API roots and paces, memory, the poll's schedule) is the
# installation's, at the settings file's top level.
OWN_SETTINGS = ("timezone", "inbox", "share_with_friends")
# A listener's own Spotify authorization. The app's Client ID and secret may be shared by every listener (one
# development-mode app serves up to 5 users), so a listener without its own falls back to the installation's; a
# refresh token never does: it is one account's, and another listener polled with it would see that account's plays.
OWN_SECRETS_ONLY = ("SPOTIFY_REFRESH_TOKEN",)
# The run tag that says whose data a run works on (the Dagster UI shows it on each run).
LISTENER_TAG = "spotify/listener"


def whose(listener: str, text: str) -> str:
    """A line about one listener: as it always read for the single listener, another listener's name before it."""
    return text if listener == DEFAULT_LISTENER else f"listener {listener}: {text}"


def check_name(name: str) -> str:
    """`name` when it is a listener name ([a-z0-9][a-z0-9_-]{0,31}), else ValueError saying what is allowed."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{name!r} is not a listener name: 1 to 32 of a-z, 0-9, _ and -, starting with a letter or "
                         "a digit")
    return name


@dataclass(frozen=True)
class Listener:
    name: str
    data_path: Path  # the installation's data folder

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_LISTENER

    @property
    def folder(self) -> Path:
        """Where this listener's own files live: the data folder itself for `default`."""
        return self.data_path if self.is_default else self.data_path / LISTENERS_FOLDER / self.name

    @property
    def credentials_path(self) -> Path:
        return self.folder / configuration.CREDENTIALS_FILE_NAME

    @property
    def landing_path(self) -> Path:
        return self.folder / "landing"

    @property
    def reports_path(self) -> Path:
        return self.folder / "reports"

    @property
    def published_marts_path(self) -> Path:
        return (self.data_path / "marts.duckdb" if self.is_default
                else self.data_path / MARTS_FOLDER / f"{self.name}.duckdb")

    def setting(self, key: str):
        """The value of one of this listener's own settings, as `resolve` finds it."""
        return resolve(self, key).value

    @property
    def inbox_path(self) -> Path:
        configured = self.setting("inbox")
        return Path(configured).resolve() if configured else self.folder / "inbox"

    def secrets(self) -> dict[str, str]:
        """This listener's Spotify credentials: its own file's, the Client ID and secret falling back to the
        installation's (never the refresh token)."""
        own = configuration.read_credentials(self.credentials_path)
        if self.is_default:
            return own
        shared = configuration.read_credentials(self.data_path / configuration.CREDENTIALS_FILE_NAME)
        return {**{name: value for name, value in shared.items()
                   if name.startswith("SPOTIFY_") and name not in OWN_SECRETS_ONLY}, **own}

    @property
    def is_authorized(self) -> bool:
        return bool(self.secrets().get("SPOTIFY_REFRESH_TOKEN"))


def resolve(listener: Listener, key: str) -> configuration.Resolved:
    """One of the listener's own settings (OWN_SETTINGS) and where it came from; for `default`, exactly what the
    single-listener setup always resolved (an environment variable overrides the settings file). Another listener's
    come from its table alone: SPOTIFY_TIMEZONE set for the default listener does not move every listener's zone."""
    if key not in OWN_SETTINGS:
        raise ValueError(f"{key} is the installation's setting, not a listener's; the listener's own are "
                         f"{', '.join(OWN_SETTINGS)}")
    if listener.is_default:
        return configuration.resolve(key, listener.data_path)
    setting = configuration.BY_KEY[key]
    stored = _tables(listener.data_path).get(listener.name, {}).get(key)
    if stored is not None:
        return configuration.Resolved(setting, str(stored).lower() if isinstance(stored, bool) else str(stored),
                                      configuration.SETTINGS_FILE)
    return configuration.Resolved(setting, setting.default,
                                  configuration.DEFAULT if setting.default is not None else configuration.NOT_SET)


def _tables(data_path: Path) -> dict[str, dict]:
    tables = configuration.stored_settings(data_path).get(LISTENERS_FOLDER, {})
    return tables if isinstance(tables, dict) else {}


def listener_names(data_path: Path) -> list[str]:
    """Every listener of the installation: `default` first, then the others in the order of their names."""
    return [DEFAULT_LISTENER, *sorted(name for name in _tables(data_path) if name != DEFAULT_LISTENER)]


def listener(data_path: Path, name: str | None) -> Listener:
    """The listener called `name` (None: `default`); ValueError when the installation has none of that name."""
    name = name or DEFAULT_LISTENER
    check_name(name)
    if name not in listener_names(data_path):
        raise ValueError(f"no listener called {name!r}: `spotify-assets listener add {name}` adds it "
                         f"(listeners: {', '.join(listener_names(data_path))})")
    return Listener(name, data_path)


def add(data_path: Path, name: str, values: dict[str, str]) -> Listener:
    """Keep a new listener: its table in the settings file (each value checked first), its folder with an inbox and
    an empty credentials file readable by its owner only. ValueError for a bad name or value, or a name taken."""
    import tomlkit

    check_name(name)
    if name in listener_names(data_path):
        raise ValueError(f"there is a listener called {name!r} already (`spotify-assets listener list`)")
    checked = {}
    for key, text in values.items():
        try:
            parsed = configuration.setting_named(key).parse(text)
        except ValueError as error:
            raise ValueError(f"{key} {text!r}: {error}") from None
        checked[key] = parsed if isinstance(parsed, (bool, int, float)) else text
    new = Listener(name, data_path)
    new.folder.mkdir(parents=True, exist_ok=True)
    if not new.credentials_path.exists():
        configuration.write_credentials(new.credentials_path, {})
    if "inbox" not in checked:
        (new.folder / "inbox").mkdir(exist_ok=True)
    path = configuration.settings_file(data_path)
    document = tomlkit.parse(path.read_text()) if path.exists() else configuration.new_document()
    if LISTENERS_FOLDER not in document:
        document[LISTENERS_FOLDER] = tomlkit.table(is_super_table=True)
    table = tomlkit.table()
    for key, value in checked.items():
        table[key] = value
    document[LISTENERS_FOLDER][name] = table
    configuration.replace_file(path, tomlkit.dumps(document))
    return new


def removable(data_path: Path, name: str) -> Listener:
    """The listener called `name`, which may be removed; ValueError for an unknown name and for `default`."""
    gone = listener(data_path, name)
    if gone.is_default:
        raise ValueError("the listener `default` is the data folder itself; it is not removed by name")
    return gone


def remove_files(data_path: Path, name: str) -> list[Path]:
    """Take a listener out of the settings file and delete its folder and its published marts (its raw rows and
    warehouse rows are the warehouse's to delete). Returns what was deleted. `default` is the data folder itself and is
    not removed this way."""
    import tomlkit

    gone = removable(data_path, name)
    deleted = []
    for path in (gone.published_marts_path, gone.folder):
        if path.is_dir():
            shutil.rmtree(path)
            deleted.append(path)
        elif path.exists():
            path.unlink()
            deleted.append(path)
    settings = configuration.settings_file(data_path)
    document = tomlkit.parse(settings.read_text())
    del document[LISTENERS_FOLDER][name]
    if not document[LISTENERS_FOLDER]:
        del document[LISTENERS_FOLDER]
    configuration.replace_file(settings, tomlkit.dumps(document))
    return deleted


def write_listeners(connection, data_path: Path, default_timezone: str) -> list[str]:
    """raw.listeners as the settings file has them now (the models read each listener's zone and opt-in there), in
    the caller's transaction; `default_timezone` is the default listener's zone as this run resolves it. Returns the
    listeners' names."""
    from spotify_assets.lib.raw_tables import LISTENERS

    rows = []
    for name in listener_names(data_path):
        each = Listener(name, data_path)
        rows.append(LISTENERS.row(listener=name, timezone=default_timezone if each.is_default else each.setting("timezone"),
                                  share_with_friends=bool(each.setting("share_with_friends"))))
    connection.execute(f"DELETE FROM {LISTENERS.qualified_name}")
    LISTENERS.insert(connection, rows)
    return [row[0] for row in rows]


def owner_of_landed_export(data_path: Path, export_hash: str) -> str | None:
    """The listener whose landing holds the export `export_hash` (an export's partition key is its hash alone, and
    its bytes are one listener's); None when no landing holds it."""
    for name in listener_names(data_path):
        if (Listener(name, data_path).landing_path / "exports" / export_hash / "receipt.json").exists():
            return name
    return None


def delete_listener_rows(connection, name: str) -> None:
    """Every raw row of the listener that no export removal took (its polls, Spotify's view of it), in the caller's
    transaction. Its exports go first, each as `exports remove` takes one."""
    from spotify_assets.lib.raw_tables import LISTENER_TABLES

    for table in LISTENER_TABLES:
        connection.execute(f"DELETE FROM {table.qualified_name} WHERE listener = ?", [name])


def every_listeners_marts(data_path: Path):
    """A read-only, in-memory DuckDB connection in which `marts.fct_plays`, `marts.dim_track` and `marts.dim_artist` are
    the rows of every listener's published file together: what enrichment asks about is every listener's music (it is
    asked once for the installation). None while no listener has a published file. Published files are never locked
    by a writer, so slow lookups never hold the warehouse."""
    import duckdb

    paths = [each.published_marts_path for each in (Listener(name, data_path) for name in listener_names(data_path))
             if each.published_marts_path.exists()]
    if not paths:
        return None
    connection = duckdb.connect()
    for index, path in enumerate(paths):
        connection.execute(f"ATTACH '{path}' AS listener_{index} (READ_ONLY)")
    connection.execute("CREATE SCHEMA marts")
    for table in ("fct_plays", "dim_track", "dim_artist"):
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM listener_{index}.main.{table}" for index in range(len(paths)))
        connection.execute(f"CREATE VIEW marts.{table} AS {union}")
    return connection
