"""The benchmark: synthetic exports of each size, then every stage a listener waits for, with wall time and
peak memory, against a pandas baseline measured in the same run.

    make bench                                  # 10k, 100k and 1M plays (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --sizes 10000 # one size (what CI runs, as a smoke test)

Per size: generate the four overlapping exports (zip and folder), run the pandas baseline over them, import
them with `spotify-assets import` into a fresh data directory (landing, import runs, dbt build, publish, report),
then time the range macros over random ranges on the published marts. For the smallest and largest size, one
incremental poll update of 50 new plays from the simulated Spotify on 127.0.0.1 (`spotify-assets poll`, five times
per size, the two sizes taking turns, the median counts). Writes
bench/results/<time>.json and .md (and latest.*) with the core count, checks the targets, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from measure import run_measured  # noqa: E402
from poll_update import measure_poll, section_nine_share  # noqa: E402

from spotify_assets.lib.synthetic.catalog_file import write_catalog_file  # noqa: E402
from spotify_assets.lib.synthetic.exports import SyntheticHistory  # noqa: E402

ZONE = "Europe/Berlin"
MACROS = ("top_artists", "top_tracks", "top_artists by minutes", "most_skipped_tracks", "new_artists", "heatmap",
          "hour_drilldown", "top_track_features", "recommendations")
CATALOG_ROWS = 100_000  # rows of the catalog file of audio features each size imports (section 11)
POLLS = 5
TARGETS = {  # the README's Performance targets, on a 2-core machine
    "import_seconds_1m": 60, "poll_update_seconds": 15, "poll_update_growth": 1.3, "macro_p95_ms": 50, "peak_mb": 2048,
    "catalog_read_seconds": 30, "modes_seconds_1m": 30,
}


def _environment(data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SPOTIFY_", "DAGSTER_", "LASTFM_"))}
    return environment | {"SPOTIFY_DATA_DIR": str(data_dir), "SPOTIFY_TIMEZONE": ZONE}


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def time_macros(marts_path: Path, ranges: int, seed: int) -> dict[str, dict[str, float]]:
    """p50 and p95 (ms) of each range macro over `ranges` random inclusive ranges (or date and hour)."""
    connection = duckdb.connect(str(marts_path), read_only=True)
    first, last = connection.execute("SELECT min(local_date), max(local_date) FROM mart_heatmap_calendar").fetchall()[0]
    rng = random.Random(seed)
    span = (last - first).days
    queries = {name: [] for name in MACROS}
    for _ in range(ranges):
        start = first + timedelta(days=rng.randint(0, span))
        end = start + timedelta(days=rng.randint(0, (last - start).days))
        queries["top_artists"].append(("SELECT * FROM top_artists(?, ?)", [start, end]))
        queries["top_tracks"].append(("SELECT * FROM top_tracks(?, ?)", [start, end]))
        queries["top_artists by minutes"].append(("SELECT * FROM top_artists(?, ?, order_by := 'minutes')", [start, end]))
        queries["most_skipped_tracks"].append(("SELECT * FROM most_skipped_tracks(?, ?)", [start, end]))
        queries["new_artists"].append(("SELECT * FROM new_artists(?, ?)", [start, end]))
        queries["heatmap"].append(("SELECT * FROM heatmap(?, ?)", [start, end]))
        queries["hour_drilldown"].append(("SELECT * FROM hour_drilldown(?, ?)", [start, rng.randint(0, 23)]))
        queries["top_track_features"].append(("SELECT * FROM top_track_features(?, ?)", [start, end]))
        queries["recommendations"].append(("SELECT * FROM recommendations(policy := ?, mode_id := ?)",
                                           [rng.choice(["mirror", "coach"]), rng.randint(1, 3)]))
    timings = {}
    for name, calls in queries.items():
        connection.execute(*calls[0]).fetchall()  # the first call binds the macro; not what a reader waits for
        elapsed = []
        for sql, parameters in calls:
            started = time.perf_counter()
            connection.execute(sql, parameters).fetchall()
            elapsed.append((time.perf_counter() - started) * 1000)
        quantiles = statistics.quantiles(elapsed, n=100)
        timings[name] = {"p50_ms": round(statistics.median(elapsed), 2), "p95_ms": round(quantiles[94], 2)}
    connection.close()
    return timings


def bench_size(plays: int, work: Path, ranges: int, catalog_size: int = CATALOG_ROWS) -> dict:
    result: dict = {"plays": plays}
    exports_dir, data_dir = work / f"exports-{plays}", work / f"data-{plays}"
    started = time.perf_counter()
    history = SyntheticHistory.generate(plays=plays, seed=42)
    exports = [export.path for export in history.write_exports(exports_dir)]
    tracks = len({play.item for play in history.plays if play.kind == "music"})
    catalog = exports_dir / "audio_features.csv"
    listed = tracks - tracks // 10  # the synthetic catalog leaves one track in ten out, and adds two bad rows
    catalog_rows = len(write_catalog_file(history, catalog, unplayed=max(40, catalog_size - listed - 2)))
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    del history

    baseline = run_measured([sys.executable, str(BENCH / "pandas_baseline.py"), "--timezone", ZONE, *map(str, exports)])
    if baseline.completed.returncode != 0:
        raise SystemExit(f"pandas baseline failed: {baseline.completed.stderr[-2000:]}")
    baseline_answer = json.loads(baseline.completed.stdout)
    result["baseline"] = {"seconds": round(baseline.seconds, 2), "peak_mb": round(baseline.peak_mb),
                          "records_read": baseline_answer["records_read"]}

    imported = run_measured([_tool("spotify-assets"), "import", *map(str, exports)], env=_environment(data_dir))
    if imported.completed.returncode != 0:
        raise SystemExit(f"import failed: {imported.completed.stderr[-2000:]}")
    result["import"] = {"seconds": round(imported.seconds, 2), "peak_mb": round(imported.peak_mb),
                        "vs_baseline": round(imported.seconds / baseline.seconds, 2),
                        **section_nine_share((data_dir / "logs" / "runs.log").read_text())}
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as marts:
        result["plays_in_marts"] = marts.execute("SELECT count(*) FROM fct_plays").fetchall()[0][0]
        top = [name for name, _ in marts.execute("SELECT artist_name, streams FROM top_artists('1900-01-01', '2100-01-01')").fetchall()]
    baseline_top = [name for name, _ in baseline_answer["top_artists"]]
    result["baseline"]["same_top_10_artists"] = top == baseline_top
    result["baseline"]["top_10_artists_in_common"] = len(set(top) & set(baseline_top))

    result["catalog"] = bench_catalog_import(catalog, catalog_rows, data_dir)
    result["macros"] = time_macros(data_dir / "marts.duckdb", ranges, seed=plays)
    return result


def bench_catalog_import(catalog: Path, rows: int, data_dir: Path) -> dict:
    """`spotify-assets catalog import` of the size's catalog file of audio features (section 11): the whole command
    (landing, reading, the build that follows), the read alone (its Dagster run), and what the listening modes took of
    the build (dbt's own time for int_track_modes, the k-means)."""
    from poll_update import model_seconds

    runs_log = data_dir / "logs" / "runs.log"
    offset = runs_log.stat().st_size
    imported = run_measured([_tool("spotify-assets"), "catalog", "import", str(catalog)], env=_environment(data_dir))
    if imported.completed.returncode != 0:
        raise SystemExit(f"catalog import failed: {imported.completed.stderr[-2000:]}")
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    from dagster import DagsterInstance, RunsFilter

    with DagsterInstance.get() as instance:
        run = instance.get_run_records(RunsFilter(job_name="catalog_file_job"), limit=1)[0]
        read_seconds = run.end_time - run.start_time
    del os.environ["DAGSTER_HOME"]
    with runs_log.open() as log:
        log.seek(offset)
        timings = model_seconds(log.read())
    with duckdb.connect(str(data_dir / "marts.duckdb"), read_only=True) as marts:
        coverage, modes = marts.execute("SELECT sum(streams_with_features) / sum(streams), "
                                        "(SELECT count(*) FROM mart_listening_modes) FROM mart_mood_monthly").fetchall()[0]
    return {"rows": rows, "seconds": round(imported.seconds, 2), "read_seconds": round(read_seconds, 2),
            "peak_mb": round(imported.peak_mb), "modes_seconds": timings.get("int_track_modes"),
            "coverage": round(float(coverage or 0), 3), "modes": modes}


def bench_polls(results: list[dict], work: Path, polls_per_size: int = POLLS) -> None:
    """Poll updates on the smallest and the largest history, the two taking turns: the growth target compares
    them, and a shared machine's speed drifts over the minutes between stages, which would bias the ratio if
    one size's polls all ran before the other's. The median of each size is its figure (the first poll after an
    import also pays for caches the later ones find warm); every run is kept in the JSON."""
    measured = [results[0], results[-1]] if len(results) > 1 else results
    runs: dict[int, list[dict]] = {result["plays"]: [] for result in measured}
    for _ in range(polls_per_size):
        for result in measured:
            data_dir = work / f"data-{result['plays']}"
            runs[result["plays"]].append(measure_poll(data_dir, _environment(data_dir)))
    for result in measured:
        polls = runs[result["plays"]]
        result["poll_update"] = sorted(polls, key=lambda poll: poll["seconds"])[len(polls) // 2] | {"runs": polls}


def verdicts(results: list[dict]) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) for every target the sizes measured allow to judge."""
    rows = []
    by_size = {r["plays"]: r for r in results}
    largest = by_size[max(by_size)]
    if largest["plays"] >= 1_000_000:
        seconds = largest["import"]["seconds"]
        rows.append(("1M plays, zip to published marts", f"<= {TARGETS['import_seconds_1m']} s", f"{seconds} s",
                     seconds <= TARGETS["import_seconds_1m"]))
    polls = {r["plays"]: r["poll_update"] for r in results if "poll_update" in r}
    for plays, poll in sorted(polls.items()):
        rows.append((f"poll update on {plays:,} plays", f"<= {TARGETS['poll_update_seconds']} s", f"{poll['seconds']} s",
                     poll["seconds"] <= TARGETS["poll_update_seconds"]))
    if len(polls) > 1:
        small, large = polls[min(polls)], polls[max(polls)]
        growth = round(large["seconds"] / small["seconds"], 2)
        rows.append((f"poll update growth, {min(polls):,} -> {max(polls):,} plays", f"<= {TARGETS['poll_update_growth']}x",
                     f"{growth}x", growth <= TARGETS["poll_update_growth"]))
    worst = max((timing["p95_ms"], name) for name, timing in largest["macros"].items())
    rows.append((f"range macros p95 at {largest['plays']:,} plays (worst: {worst[1]})",
                 f"<= {TARGETS['macro_p95_ms']} ms", f"{worst[0]} ms", worst[0] <= TARGETS["macro_p95_ms"]))
    catalog = largest.get("catalog")
    if catalog:
        rows.append((f"catalog file of {catalog['rows']:,} rows read (audio features)",
                     f"<= {TARGETS['catalog_read_seconds']} s", f"{catalog['read_seconds']} s",
                     catalog["read_seconds"] <= TARGETS["catalog_read_seconds"]))
        if largest["plays"] >= 1_000_000 and catalog["modes_seconds"] is not None:
            rows.append(("listening modes (k-means) at 1,000,000 plays", f"<= {TARGETS['modes_seconds_1m']} s",
                         f"{catalog['modes_seconds']} s", catalog["modes_seconds"] <= TARGETS["modes_seconds_1m"]))
    peak = max([r["import"]["peak_mb"] for r in results] + [p["peak_mb"] for p in polls.values()]
               + [r["catalog"]["peak_mb"] for r in results if "catalog" in r])
    rows.append(("peak memory, any stage", f"<= {TARGETS['peak_mb']} MB", f"{peak} MB", peak <= TARGETS["peak_mb"]))
    return rows


def markdown(report: dict) -> str:
    lines = [f"# Benchmark {report['started_at']}", "",
             f"{report['machine']['cores']} cores, {report['machine']['python']}, {report['machine']['platform']}; "
             f"synthetic exports (seed 42, {ZONE}); {report['ranges']} random ranges per macro.", "",
             f"| plays | records | pandas baseline | import to published marts | vs baseline | poll update (50 plays, median of {report['polls']}) | "
             + " | ".join(f"{m} p50 / p95" for m in MACROS) + " |",
             "|---:|---:|---:|---:|---:|---:|" + "---:|" * len(MACROS)]
    for r in report["sizes"]:
        poll = r.get("poll_update")
        poll_text = f"{poll['seconds']} s, {poll['peak_mb']} MB (dbt {poll['dbt_seconds']} s)" if poll else "-"
        lines.append(
            f"| {r['plays']:,} | {r['baseline']['records_read']:,} | {r['baseline']['seconds']} s, {r['baseline']['peak_mb']} MB "
            f"| {r['import']['seconds']} s, {r['import']['peak_mb']} MB | {r['import']['vs_baseline']}x "
            f"| {poll_text} | "
            + " | ".join(f"{r['macros'][m]['p50_ms']} / {r['macros'][m]['p95_ms']} ms" for m in MACROS) + " |")
    lines += ["", "| target | limit | measured | met |", "|---|---|---|---|"]
    lines += [f"| {name} | {limit} | {measured} | {'yes' if met else 'NO'} |" for name, limit, measured, met in report["targets"]]
    lines += [""] + [f"Poll updates on {r['plays']:,} plays, in the order they ran: "
                     + ", ".join(f"{run['seconds']} s (dbt {run['dbt_seconds']} s)" for run in r["poll_update"]["runs"]) + "."
                     for r in report["sizes"] if "poll_update" in r]
    lines += [""] + [f"Section 9 models (sessions, streaks, skips, discovery, years, eras, weekends) at {r['plays']:,} plays: "
                     + _share(r["import"], "the import") + ("; " + _share(r["poll_update"], "a poll update")
                                                            if "poll_update" in r else "") + "."
                     for r in report["sizes"] if "section_nine_seconds" in r["import"]]
    lines += [""] + [f"Audio features at {r['plays']:,} plays: `spotify-assets catalog import` of {r['catalog']['rows']:,} "
                     f"rows took {r['catalog']['seconds']} s with the build after it ({r['catalog']['peak_mb']} MB), "
                     f"the read {r['catalog']['read_seconds']} s, the listening modes (k-means) "
                     f"{r['catalog']['modes_seconds']} s of the build; {r['catalog']['modes']} modes, "
                     f"{100 * r['catalog']['coverage']:.1f}% of streams with features."
                     for r in report["sizes"] if "catalog" in r]
    lines += ["", "The pandas baseline reads only the extended history (no account-data export, no cross-source "
              "matching, names as written), so its all-time top 10 artists can differ from the marts': "
              + ", ".join(f"{r['plays']:,}: {_agreement(r['baseline'])}" for r in report["sizes"]) + "."]
    return "\n".join(lines) + "\n"


def _share(stage: dict, name: str) -> str:
    whole = stage["all_models_seconds"] or 1
    return (f"{stage['section_nine_seconds']} s of {name}'s {stage['all_models_seconds']} s in dbt models "
            f"({stage['section_nine_seconds'] / whole:.0%}; fct_plays with its session hook {stage['fct_plays_seconds']} s)")


def _agreement(baseline: dict) -> str:
    if baseline["same_top_10_artists"]:
        return "the same, in the same order"
    return f"{baseline['top_10_artists_in_common']} of 10 the same, in another order"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="plays per size, comma-separated")
    parser.add_argument("--ranges", type=int, default=200, help="random ranges per macro")
    parser.add_argument("--work-dir", type=Path, help="where exports and data go (default: a temporary folder)")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--catalog-rows", type=int, default=CATALOG_ROWS,
                        help=f"rows of each size's catalog file of audio features (default {CATALOG_ROWS:,})")
    parser.add_argument("--polls", type=int, default=POLLS, help=f"poll updates per size (default {POLLS}; the median counts)")
    arguments = parser.parse_args()
    sizes = sorted(int(size) for size in arguments.sizes.split(","))
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    work = arguments.work_dir or Path(tempfile.mkdtemp(prefix="spotify-bench-"))
    results = []
    for plays in sizes:
        print(f"benchmarking {plays:,} plays in {work}", file=sys.stderr, flush=True)
        results.append(bench_size(plays, work, arguments.ranges, arguments.catalog_rows))
    print(f"polling the {sizes[0]:,}-play and the {sizes[-1]:,}-play history in turns", file=sys.stderr, flush=True)
    bench_polls(results, work, arguments.polls)
    report = {"started_at": started_at, "ranges": arguments.ranges, "polls": arguments.polls,
              "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
              "sizes": results}
    report["targets"] = verdicts(results)
    arguments.results.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    for stem in (started_at, "latest"):
        (arguments.results / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str))
        (arguments.results / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
