"""The settings a listener keeps, and where each value comes from.

Every setting but the data folder itself (which holds the file) and the secrets lives in `settings.toml` in the data
folder: `spotify-assets config set timezone Europe/Berlin` writes it, and every command, the UI, the daemon and every
run read it whenever they use a setting, so a value set once holds everywhere until it is changed. An environment
variable overrides the file for the process it is set in (one command, or the UI started with it). Secrets never go
into the settings file: they live in the credentials file (`spotify.env`, readable by its owner only), which
`spotify-assets auth` writes, or in the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATA_DIR_VARIABLE = "SPOTIFY_DATA_DIR"
DEFAULT_DATA_DIR = "./data"
SETTINGS_FILE_NAME = "settings.toml"
CREDENTIALS_FILE_NAME = "spotify.env"

ENVIRONMENT, SETTINGS_FILE, CREDENTIALS_FILE, DEFAULT, NOT_SET = (
    "environment", "settings file", "credentials file", "default", "not set")


def _time_zone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone name (e.g. Europe/Berlin)") from None
    return text


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"not a {'whole ' if kind is int else ''}number") from None
        if value <= 0:
            raise ValueError("must be more than 0")
        return value
    return parse


def _url(text: str) -> str:
    if not re.match(r"https?://[^\s/]+", text):
        raise ValueError("not an http:// or https:// address")
    return text


def _cron(text: str) -> str:
    if len(text.split()) != 5:
        raise ValueError("not a cron expression of five fields (e.g. */30 * * * *)")
    return text


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("not a whole number") from None
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _yes_or_no(text: str) -> bool:
    if text.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if text.strip().lower() in ("false", "no", "0", "off"):
        return False
    raise ValueError("not true or false")


def _memory(text: str) -> str:
    if not re.fullmatch(r"\s*[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", text, re.IGNORECASE):
        raise ValueError("not an amount of memory such as 1GB or 512MB")
    return text.strip()


def _path(text: str) -> str:
    return str(Path(text).expanduser())


@dataclass(frozen=True)
class Setting:
    key: str  # its name in settings.toml and to `config set`
    variable: str  # the environment variable that overrides it
    default: str | None  # as text; None: no default (the feature it turns on stays off)
    meaning: str
    parse: Callable[[str], object] = str  # the value as the code uses it; ValueError says what is wrong
    secret: bool = False  # kept in the credentials file, never in settings.toml, never shown
    applies: str = ""  # what follows a change, where it is more than "the next command uses it"


SETTINGS: tuple[Setting, ...] = (
    Setting("timezone", "SPOTIFY_TIMEZONE", "UTC", "IANA zone of every local date, hour and weekday", _time_zone,
            applies="The next build (`spotify-assets build`, or the daemon's next one) rebuilds every model in the new "
                    "zone."),
    Setting("inbox", "SPOTIFY_INBOX", None, "where you drop exports (default: the data folder's inbox/)", _path),
    Setting("share_with_friends", "SPOTIFY_SHARE_WITH_FRIENDS", "false",
            "whether the listeners who opted in see your top artists and week beside theirs (mart_friends_*)",
            _yes_or_no),
    Setting("poll_cron", "SPOTIFY_POLL_CRON", "*/30 * * * *", "when the schedule polls recently played", _cron,
            applies="The daemon polls on the new schedule once the UI is started again."),
    Setting("poll_concurrency", "SPOTIFY_POLL_CONCURRENCY", "16",
            "how many listeners' requests one poll cycle has on the wire at once", _positive(int)),
    Setting("catalog_lookups_per_run", "SPOTIFY_CATALOG_LOOKUPS_PER_RUN", "200",
            "Spotify catalog: tracks looked up per enrichment run", _positive(int)),
    Setting("catalog_requests_per_second", "SPOTIFY_CATALOG_REQUESTS_PER_SECOND", "10",
            "Spotify catalog: request pace", _positive(float)),
    Setting("lastfm_lookups_per_run", "LASTFM_LOOKUPS_PER_RUN", "300",
            "Last.fm: tracks and artists (each) looked up per enrichment run", _positive(int)),
    Setting("lastfm_requests_per_second", "LASTFM_REQUESTS_PER_SECOND", "4", "Last.fm: request pace",
            _positive(float)),
    Setting("reccobeats_lookups_per_run", "RECCOBEATS_LOOKUPS_PER_RUN", "0",
            "ReccoBeats audio features: tracks looked up per enrichment run, most streamed first (0: never asked, your "
            "track ids stay home)", _count),
    Setting("duckdb_memory_limit", "SPOTIFY_DUCKDB_MEMORY_LIMIT", "1GB",
            "DuckDB's memory cap in dbt builds (it spills to disk beyond it)", _memory),
    Setting("dbt_docs_url", "SPOTIFY_DBT_DOCS_URL", "http://127.0.0.1:8080",
            "where the dbt docs site is served (the UI links each model there)", _url),
    Setting("spotify_api_base_url", "SPOTIFY_API_BASE_URL", "https://api.spotify.com", "Spotify Web API root", _url),
    Setting("spotify_accounts_base_url", "SPOTIFY_ACCOUNTS_BASE_URL", "https://accounts.spotify.com",
            "Spotify accounts (token) root", _url),
    Setting("lastfm_api_base_url", "LASTFM_API_BASE_URL", "https://ws.audioscrobbler.com/2.0/", "Last.fm API root",
            _url),
    Setting("reccobeats_api_base_url", "RECCOBEATS_API_BASE_URL", "https://api.reccobeats.com", "ReccoBeats API root",
            _url),
    Setting("spotify_client_id", "SPOTIFY_CLIENT_ID", None, "your Spotify app's Client ID (`spotify-assets auth`)",
            secret=True),
    Setting("spotify_client_secret", "SPOTIFY_CLIENT_SECRET", None,
            "your Spotify app's Client secret, empty for PKCE apps (`spotify-assets auth`)", secret=True),
    Setting("spotify_refresh_token", "SPOTIFY_REFRESH_TOKEN", None, "your Spotify authorization (`spotify-assets auth`)",
            secret=True),
    Setting("lastfm_api_key", "LASTFM_API_KEY", None,
            "turns Last.fm enrichment on (https://www.last.fm/api/account/create)", secret=True),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}
# Secrets `config set` may store (Spotify's come from the authorization: `spotify-assets auth`).
STORABLE_SECRETS = {"lastfm_api_key"}


def data_path(configured: str | None = None) -> Path:
    """The data folder: the value given, else SPOTIFY_DATA_DIR, else ./data (it holds the settings file, so it is the
    one setting that only the environment sets)."""
    return Path(configured or os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR).resolve()


def settings_file(folder: Path) -> Path:
    return folder / SETTINGS_FILE_NAME


_READ: dict[Path, tuple[tuple[int, int], dict]] = {}


def stored_settings(folder: Path) -> dict[str, object]:
    """What settings.toml holds (nothing when there is none). A file that is not TOML raises ValueError naming it."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    path = settings_file(folder)
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    signature = (status.st_mtime_ns, status.st_size)
    cached = _READ.get(path)
    if cached and cached[0] == signature:
        return cached[1]
    try:
        values = tomlkit.parse(path.read_text()).unwrap()
    except ParseError as error:
        raise ValueError(f"{path} is not valid TOML ({error}); fix it or remove it") from None
    _READ[path] = (signature, values)
    return values


@dataclass(frozen=True)
class Resolved:
    setting: Setting
    text: str | None  # as given (None: not set anywhere, no default)
    source: str  # ENVIRONMENT, SETTINGS_FILE, CREDENTIALS_FILE, DEFAULT or NOT_SET

    @property
    def value(self):
        """The value as the code uses it; a value that does not parse raises ValueError naming where it came from."""
        if self.text is None:
            return None
        try:
            return self.setting.parse(self.text)
        except ValueError as error:
            raise ValueError(f"{self.where()}: {error}") from None

    def where(self) -> str:
        if self.source == ENVIRONMENT:
            return f"{self.setting.variable}={self.text!r}"
        if self.source == SETTINGS_FILE:
            return f"{self.setting.key} = {self.text!r} (settings.toml)"
        return f"{self.setting.key} = {self.text!r}"


def resolve(key: str, folder: Path) -> Resolved:
    """The value of setting `key` for the data folder `folder`: the environment's, else the settings file's (or, for a
    secret, the credentials file's), else the default."""
    setting = BY_KEY[key]
    from_environment = os.environ.get(setting.variable)
    if setting.secret:
        stored = read_credentials(folder / CREDENTIALS_FILE_NAME).get(setting.variable)
        if from_environment is not None and from_environment != stored:
            return Resolved(setting, from_environment, ENVIRONMENT)
        if stored is not None:
            return Resolved(setting, stored, CREDENTIALS_FILE)
        return Resolved(setting, None, NOT_SET)
    if from_environment:
        return Resolved(setting, from_environment, ENVIRONMENT)
    stored = stored_settings(folder).get(key)
    if stored is not None:
        return Resolved(setting, str(stored), SETTINGS_FILE)
    return Resolved(setting, setting.default, DEFAULT if setting.default is not None else NOT_SET)


def check(folder: Path) -> None:
    """Raise ValueError, naming the setting and where its value came from, for a data folder that is a file, a
    settings file that is not TOML, or a value that does not parse."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{DATA_DIR_VARIABLE}={folder} is a file, not a folder")
    for setting in SETTINGS:
        if not setting.secret:
            resolve(setting.key, folder).value


def value(key: str, folder: Path | None = None):
    """The value of setting `key` as the code uses it, for `folder` (default: the data folder of the environment)."""
    return resolve(key, folder or data_path()).value


def store(folder: Path, key: str, text: str) -> Resolved:
    """Keep `key = text` in settings.toml (a secret: in the credentials file), after checking the value. Returns what
    a command will now use (the environment may still override it)."""
    import tomlkit

    setting = setting_named(key)
    if setting.secret:
        if key not in STORABLE_SECRETS:
            raise ValueError(f"{key} comes from the authorization: run `spotify-assets auth`")
        path = folder / CREDENTIALS_FILE_NAME
        write_credentials(path, {**read_credentials(path), setting.variable: text})
        return resolve(key, folder)
    try:
        parsed = setting.parse(text)
    except ValueError as error:
        raise ValueError(f"{key} {text!r}: {error}") from None
    path = settings_file(folder)
    document = tomlkit.parse(path.read_text()) if path.exists() else new_document()
    document[key] = parsed if isinstance(parsed, (int, float)) else text
    replace_file(path, tomlkit.dumps(document))
    return resolve(key, folder)


def remove(folder: Path, key: str) -> bool:
    """Take `key` out of settings.toml (a secret: out of the credentials file); False when it was not there."""
    import tomlkit

    setting = setting_named(key)
    if setting.secret:
        path = folder / CREDENTIALS_FILE_NAME
        stored = read_credentials(path)
        if setting.variable not in stored:
            return False
        del stored[setting.variable]
        write_credentials(path, stored)
        return True
    path = settings_file(folder)
    if not path.exists():
        return False
    document = tomlkit.parse(path.read_text())
    if key not in document:
        return False
    del document[key]
    replace_file(path, tomlkit.dumps(document))
    return True


def setting_named(key: str) -> Setting:
    """The setting called `key`; ValueError names the closest ones (or all of them) otherwise."""
    if key not in BY_KEY:
        close = [name for name in BY_KEY if key.lower().replace("-", "_") in name]
        hint = f" (did you mean {', '.join(close)}?)" if close else f"; the settings are {', '.join(BY_KEY)}"
        raise ValueError(f"no setting called {key!r}{hint}")
    return BY_KEY[key]


def new_document():
    import tomlkit

    document = tomlkit.document()
    document.add(tomlkit.comment("spotify-assets settings (`spotify-assets config set KEY VALUE` writes this file; "
                                 "`config show` lists every setting)."))
    document.add(tomlkit.comment("An environment variable of the same setting overrides this file for one command."))
    return document


def replace_file(path: Path, text: str, mode: int | None = None) -> None:
    """Write `path` in one step: a reader sees the old file or the new one, never half of either."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        if mode is not None:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------------- credentials


def read_credentials(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of the credentials file (nothing when there is none)."""
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    values = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def write_credentials(path: Path, values: dict[str, str]) -> None:
    """KEY=VALUE lines readable by the owner only (0600), replacing the file in one step."""
    replace_file(path, "# Credentials for spotify-assets (`spotify-assets auth`, `spotify-assets config set`). Keep "
                   "private.\n" + "".join(f"{name}={value}\n" for name, value in values.items()), mode=0o600)


def load_credentials_into_environment(path: Path) -> None:
    """Make the stored credentials visible to Dagster's EnvVar; variables already set win."""
    for name, text in read_credentials(path).items():
        os.environ.setdefault(name, text)
