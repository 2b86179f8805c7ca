"""Many listeners: one poll cycle (every listener polled, one incremental build, every listener's marts and report)
for 10, 100 and 1,000 listeners, each with a history and 50 new plays waiting on the simulated Spotify.

    .venv/bin/python bench/listeners.py --listeners 10,100,1000 --history 10000

Set-up, not measured: `spotify-assets demo --plays H` gives the default listener a history of H plays; every other
listener gets a copy of it (its own export rows in raw, as an import of its own export would leave them) and its own
authorization, and one full build makes everyone's marts. Measured: `spotify-assets poll`, exactly as the schedule
runs it, while the simulated Spotify holds 50 new plays for each listener: its wall time, its peak memory, and the CPU
seconds of the command and every process it starts, per listener polled. Writes bench/results/listeners-<stamp>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from measure import run_measured  # noqa: E402

from spotify_assets.lib import configuration  # noqa: E402
from spotify_assets.lib.listeners import Listener  # noqa: E402
from spotify_assets.lib.raw_tables import EXPORT_FILES, EXPORT_IMPORTS, RECORD_TABLES  # noqa: E402
from spotify_assets.lib.simulated.spotify import SimulatedSpotify, track_object  # noqa: E402
from spotify_assets.lib.warehouse import warehouse_connection  # noqa: E402
from spotify_assets.settings import SpotifySettings  # noqa: E402

NEW_PLAYS = 50
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney")


def _spotify_assets(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    completed = subprocess.run([str(Path(sys.executable).with_name("spotify-assets")), *arguments], env=environment,
                               capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"spotify-assets {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return completed


def listener_name(number: int) -> str:
    return f"listener-{number:04d}"


def add_listeners(data: Path, count: int) -> list[str]:
    """`count` listeners besides `default`, written as `listener add` writes them (one settings file written once:
    `listener add` rewrites it per listener), each with a copy of the default listener's exports in raw, loaded now
    (what the next build takes as new)."""
    names = [listener_name(n) for n in range(1, count)]
    settings = configuration.settings_file(data)
    text = settings.read_text() if settings.exists() else ""
    text += "".join(f'\n[listeners.{name}]\ntimezone = "{ZONES[n % len(ZONES)]}"\n' for n, name in enumerate(names, 1))
    settings.write_text(text)
    for name in names:
        listener = Listener(name, data)
        (listener.folder / "inbox").mkdir(parents=True, exist_ok=True)
        configuration.write_credentials(listener.credentials_path, {"SPOTIFY_REFRESH_TOKEN": f"{name}-token"})
    with duckdb.connect(str(data / "warehouse.duckdb")) as warehouse:
        exports = [row[0] for row in warehouse.execute(
            "SELECT export_hash FROM raw.export_imports WHERE listener = 'default'").fetchall()]
        copies = [(export, hashlib.sha256(f"{export} {name}".encode()).hexdigest(), name)
                  for name in names for export in exports]
        warehouse.execute("CREATE TEMP TABLE copies (export_hash VARCHAR, copy_hash VARCHAR, listener VARCHAR)")
        warehouse.executemany("INSERT INTO copies VALUES (?, ?, ?)", copies)
        warehouse.execute(f"INSERT INTO {EXPORT_IMPORTS.qualified_name} SELECT t.* REPLACE (c.copy_hash AS export_hash, "
                          f"c.listener AS listener, now()::TIMESTAMP AS imported_at) FROM {EXPORT_IMPORTS.qualified_name} t JOIN copies c USING (export_hash)")
        warehouse.execute(f"INSERT INTO {EXPORT_FILES.qualified_name} SELECT t.* REPLACE (c.copy_hash AS export_hash) "
                          f"FROM {EXPORT_FILES.qualified_name} t JOIN copies c USING (export_hash)")
        for table in RECORD_TABLES:
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            warehouse.execute(f"INSERT INTO {table.qualified_name} SELECT {columns}, c.copy_hash, _file_path, "
                              f"_record_index, now()::TIMESTAMP FROM {table.qualified_name} t "
                              f"JOIN copies c ON t._export_hash = c.export_hash")
    return names


def listeners_environment(environment: dict[str, str], data: Path) -> dict[str, str]:
    return environment | {"SPOTIFY_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster_home")}


def bench_listeners(count: int, history: int, work: Path, environment: dict[str, str]) -> dict:
    data = work / f"listeners-{count}"
    environment = listeners_environment(environment, data)
    started = time.perf_counter()
    _spotify_assets("demo", "--plays", str(history), environment=environment)
    names = add_listeners(data, count)
    _spotify_assets("build", environment=environment)
    return measure_cycle(data, names, history, time.perf_counter() - started, environment)


def measure_cycle(data: Path, names: list[str], history: int, setup_seconds: float, environment: dict[str, str]) -> dict:
    """One poll cycle of the set-up data folder, with 50 new plays for everybody on the simulated Spotify."""
    count = len(names) + 1
    with duckdb.connect(str(data / "marts.duckdb"), read_only=True) as marts:
        newest = marts.execute("SELECT epoch_ms(max(played_at_utc)) FROM fct_plays").fetchone()[0]
        tracks = marts.execute("SELECT track_uris[1], track_name, artist_name FROM dim_track "
                               "WHERE len(track_uris) > 0 ORDER BY streams DESC LIMIT ?", [NEW_PLAYS]).fetchall()
    with warehouse_connection(SpotifySettings(data_dir=str(data)), read_only=True, with_marts=True) as warehouse:
        plays_in_warehouse = warehouse.execute("SELECT count(*) FROM marts.fct_plays").fetchone()[0]
    with SimulatedSpotify() as fake:
        accounts = [fake] + [fake.add_account(f"{name}-token") for name in names]
        for account in accounts:
            for index, (uri, name, artist) in enumerate(tracks):
                account.add_play(newest + (index + 1) * 200_000,
                                 track_object(uri.rsplit(":", 1)[-1], name, [artist], "Album", 190_000, "QZ0"))
        fake.now_ms = newest + (NEW_PLAYS + 1) * 200_000
        poll_environment = environment | {
            "SPOTIFY_CLIENT_ID": fake.client_id, "SPOTIFY_CLIENT_SECRET": fake.client_secret,
            "SPOTIFY_REFRESH_TOKEN": "fake-refresh-token", "SPOTIFY_API_BASE_URL": fake.base_url,
            "SPOTIFY_ACCOUNTS_BASE_URL": fake.base_url}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        measured = run_measured([str(Path(sys.executable).with_name("spotify-assets")), "poll"], env=poll_environment)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if measured.completed.returncode != 0:
        raise SystemExit(f"poll failed:\n{measured.completed.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    others = re.search(r"(\d+) other listeners? polled, (\d+) new plays", measured.completed.stdout)
    received = re.search(r"poll: (\d+) new plays", measured.completed.stdout)
    new_plays = (int(received.group(1)) if received else 0) + (int(others.group(2)) if others else 0)
    published = sum(1 for name in ["default", *names] if Listener(name, data).published_marts_path.exists())
    return {"listeners": count, "history_per_listener": history, "plays_in_warehouse": plays_in_warehouse,
            "new_plays_landed": new_plays, "published_files": published, "setup_seconds": round(setup_seconds, 1),
            "cycle_seconds": round(measured.seconds, 2), "cycle_cpu_seconds": round(cpu, 2),
            "cpu_seconds_per_listener": round(cpu / count, 3), "peak_mb": round(measured.peak_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", default="10,100,1000", help="listener counts, comma-separated")
    parser.add_argument("--history", type=int, default=10_000, help="plays of history per listener")
    parser.add_argument("--work-dir", type=Path, help="where the data folders go (default: a temporary folder)")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--duckdb-memory-limit", help="the setting duckdb_memory_limit for every command (default: the "
                        "installation's default, 1GB)")
    arguments = parser.parse_args()
    import tempfile

    work = arguments.work_dir or Path(tempfile.mkdtemp(prefix="bench-listeners-"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "DAGSTER_", "LASTFM_"))}
    if arguments.duckdb_memory_limit:
        environment["SPOTIFY_DUCKDB_MEMORY_LIMIT"] = arguments.duckdb_memory_limit
    results = []
    for count in (int(n) for n in arguments.listeners.split(",")):
        results.append(bench_listeners(count, arguments.history, work, environment))
        print(json.dumps(results[-1]), flush=True)
    smallest, largest = results[0], results[-1]
    growth = (largest["cycle_cpu_seconds"] / smallest["cycle_cpu_seconds"]) / (largest["listeners"] / smallest["listeners"])
    report = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=BENCH.parent).stdout.strip(),
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results,
              "duckdb_memory_limit": arguments.duckdb_memory_limit or "1GB (default)",
              "cpu_growth_over_listener_growth": round(growth, 3)}
    arguments.results.mkdir(parents=True, exist_ok=True)
    (arguments.results / f"listeners-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "results"}))


if __name__ == "__main__":
    main()
