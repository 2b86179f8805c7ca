"""reports/listening_report: the HTML heatmap report, rebuilt after every publish.

It reads only the published marts.duckdb (never the warehouse), so it needs no place in the warehouse
pool and never delays a build.
"""

import base64
import os
from concurrent.futures import ThreadPoolExecutor

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.lib.listeners import DEFAULT_LISTENER, listener_names
from spotify_assets.lib.publishing.publish import connect_published, marts_timezone
from spotify_assets.lib.reports.contents import report_contents
from spotify_assets.lib.reports.render import (
    REPORT_FILE_NAME,
    render_report,
    write_atomically,
)
from spotify_assets.lib.reports.snapshot import modes_png, weekday_hour_png
from spotify_assets.settings import SpotifySettings

REPORT_KEY = AssetKey(["reports", "listening_report"])
SNAPSHOT_FILE_NAME = "weekday_hour.png"


def _top_five_table(connection) -> str:
    lines = ["| # | artist | streams |", "|---|---|---|"]
    rows = connection.execute("SELECT artist_name, streams FROM top_artists('1900-01-01', '2100-01-01', n := 5)").fetchall()
    lines += [f"| {rank} | {name} | {streams:,} |" for rank, (name, streams) in enumerate(rows, 1)]
    return "\n".join(lines)


@asset(
    key=REPORT_KEY,
    deps=[published_marts_database],
    group_name="reports",
    kinds={"html", "python"},
    description="$SPOTIFY_DATA_DIR/reports/listening_report.html: one self-contained page (no network needed) with "
    "a calendar per year, the weekday x hour and year x month heatmaps, the top 10 artists and tracks of any "
    "range with their own heatmaps, the tracks of any hour of any day, skips, sessions, your years, Spotify's view "
    "beside yours, mood, listening modes and recommendations. Open it in a browser.",
)
def listening_report(context: AssetExecutionContext, spotify_settings: SpotifySettings) -> MaterializeResult:
    # Every listener's report from its own published file, into its own folder, one per core at a time (a report is
    # mostly DuckDB queries, which run outside Python's lock); the metadata shows the default listener's (the
    # single-listener setup's), so no other listener's figures show in the run.
    others = [spotify_settings.for_listener(name) for name in listener_names(spotify_settings.data_path)
              if name != DEFAULT_LISTENER]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        for report_path, size in workers.map(lambda settings: _write_report(settings)[-1], others):
            context.log.info(f"Wrote {report_path} ({size / 1e6:.1f} MB)")
    contents, top_artists, page, snapshot, modes_picture, (report_path, size) = _write_report(spotify_settings)
    context.log.info(f"Wrote {report_path} ({size / 1e6:.1f} MB)")
    modes = contents["mood"]["modes"]
    picture = base64.b64encode(snapshot).decode("ascii")
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(report_path)),
        "size_mb": round(len(page) / 1e6, 2),
        "streams": contents["totals"]["streams"],
        "days": len(contents["daily_streams"]),
        "first_date": contents["first_date"] or "",
        "weekday_hour_heatmap": MetadataValue.md(
            f"![weekday x hour heatmap](data:image/png;base64,{picture})"),
        "top_artists": MetadataValue.md(top_artists),
        **({"listening_modes": MetadataValue.md(
            f"![listening modes](data:image/png;base64,{modes_picture})\n\n" + "\n".join(
                ["| mode | valence | energy | tracks | streams | top artists |", "|---|---|---|---|---|---|"]
                + [f"| {m['mode_id']} | {m['centre_valence']:.2f} | {m['centre_energy']:.2f} | {m['tracks']:,} | "
                   f"{m['streams']:,} | {', '.join(m['top_artists'])} |" for m in modes]))} if modes else {}),
    })


def _write_report(settings: SpotifySettings):
    """The listener's report and heatmap picture, from its published marts, written into its reports folder; with what
    went into them, and the report's path and size."""
    connection = connect_published(settings.published_marts_path)
    try:
        contents = report_contents(connection, marts_timezone(connection, settings.timezone_name))
        top_artists = _top_five_table(connection)
    finally:
        connection.close()
    modes = contents["mood"]["modes"]
    modes_picture = base64.b64encode(modes_png(modes)).decode("ascii") if modes else None
    contents["mood"]["picture"] = modes_picture
    page = render_report(contents).encode("utf-8")
    snapshot = weekday_hour_png(contents["weekday_hour"], contents["timezone"])
    report_path = settings.reports_path / REPORT_FILE_NAME
    write_atomically(report_path, page)
    write_atomically(settings.reports_path / SNAPSHOT_FILE_NAME, snapshot)
    return contents, top_artists, page, snapshot, modes_picture, (report_path, len(page))
