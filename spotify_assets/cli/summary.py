"""What the demo prints: the ingest report from the warehouse, the results from the published marts."""

from __future__ import annotations

import sys
from pathlib import Path

from spotify_assets.lib.exports.importing import podcast_rows_among_songs
from spotify_assets.lib.exports.landing import landed_exports
from spotify_assets.lib.publishing.publish import connect_published, marts_timezone
from spotify_assets.lib.raw_tables import RECORD_TABLES
from spotify_assets.lib.reports.render import REPORT_FILE_NAME
from spotify_assets.lib.warehouse import WarehouseBusy, warehouse_connection
from spotify_assets.settings import SpotifySettings

# How long `summary` waits for a writer in another process before leaving the import report out.
BUSY_WAIT_SECONDS = 10
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_SHADES = " ░▒▓█"


def print_ingest_report(settings: SpotifySettings) -> bool:
    """What every export brought; False (after one line saying how to start) while nothing has been imported."""
    if not settings.warehouse_path.exists():
        print("nothing imported yet: `spotify-assets import PATH` reads your Spotify export, `spotify-assets demo` a "
              "synthetic one, and `spotify-assets poll` your recently played tracks")
        return False
    try:
        with warehouse_connection(settings, read_only=True, wait_seconds=BUSY_WAIT_SECONDS) as connection:
            _print_exports(connection, settings.listener_name)
            imported = {export_hash for (export_hash,) in connection.execute(
                "SELECT export_hash FROM raw.export_imports").fetchall()}
        pending = [landed.name for landed in landed_exports(settings.exports_landing_path)
                   if landed.export_hash not in imported]
        if pending:
            print(f"landed, not imported yet: {', '.join(pending)} (an import failed or was stopped; "
                  "`spotify-assets build` imports them)")
    except WarehouseBusy:
        print("\n(an import or build is writing the warehouse right now: its import report is left out here; the "
              "published marts below are the last complete build)")
    return True


def _print_exports(connection, listener: str) -> None:
    """The listener's exports, each with what it brought."""
    exports = connection.execute(
        "SELECT i.export_hash, i.export_name, count_if(f.status IN ('parsed', 'partial')), "
        "coalesce(sum(f.records_accepted), 0), "
        "coalesce(sum(f.records_quarantined), 0), coalesce(sum(f.records_without_content), 0), "
        "count_if(f.status = 'ignored'), count_if(f.status = 'unreadable'), count_if(f.status = 'partial'), "
        "count_if(f.status = 'unrecognised') "
        "FROM raw.export_imports AS i LEFT JOIN raw.export_files AS f USING (export_hash) WHERE i.listener = ? "
        "GROUP BY i.export_hash, i.export_name, i.imported_at ORDER BY i.imported_at, i.export_name", [listener]).fetchall()
    print("\nexports imported:")
    not_history = []
    for export_hash, name, files, accepted, quarantined, without_content, ignored, unreadable, partial, unrecognised \
            in exports:
        if not (files or unreadable or unrecognised):
            not_history.append(name)
            continue
        problems = [f"{count} {what}" for count, what in ((unreadable, "unreadable"), (partial, "partly read"),
                                                           (unrecognised, "not recognised as history")) if count]
        podcasts = podcast_rows_among_songs(connection, export_hash)
        print(f"  {name}: {_count(files, 'history file')}, {_count(accepted, 'record')} accepted, {quarantined:,} "
              f"quarantined, {without_content:,} without content, {_count(ignored, 'other file')} ignored"
              + (f", {podcasts:,} podcast episodes among the songs (counted as episodes)" if podcasts else "")
              + (f"; {', '.join(problems)} (raw.export_files says why)" if problems else ""))
    if not_history:
        print("not listening history (kept in landing, no plays): " + ", ".join(not_history))
    print("\nraw records by table:")
    for table in RECORD_TABLES:
        count = connection.execute(
            f"SELECT count(*) FROM {table.qualified_name} WHERE _export_hash IN "
            "(SELECT export_hash FROM raw.export_imports WHERE listener = ?)", [listener]).fetchall()[0][0]
        print(f"  {table.qualified_name:<32} {count:>10,}")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def heatmap_lines(cells: dict[tuple[int, int], int]) -> list[str]:
    """Weekday x hour as shaded blocks, darker for more streams (two characters per hour)."""
    peak = max(cells.values(), default=0) or 1
    lines = ["       " + "".join(f"{hour:<2}" if hour % 3 == 0 else "  " for hour in range(24))]
    for weekday in range(1, 8):
        row = ""
        for hour in range(24):
            streams = cells.get((weekday, hour), 0)
            shade = _SHADES[0] if streams == 0 else _SHADES[1 + min(3, int(4 * streams / (peak + 1)))]
            row += shade * 2
        lines.append(f"  {_WEEKDAYS[weekday - 1]}  {row}")
    lines.append(f"       scale: blank none, '{_SHADES[1]}' few … '{_SHADES[4]}' {_count(peak, 'stream')} (the busiest "
                 "hour)")
    return lines


def listening_habit_lines(connection) -> list[str]:
    """Skips, sessions, streaks and the latest year (counting rules, section 9), one line each."""
    lines = []
    known, skips = connection.execute("SELECT count(is_skip), count_if(is_skip) FROM fct_plays").fetchall()[0]
    lines.append(f"  skips: {skips / known:.1%} of {_count(known, 'play')} whose skip is known (the extended history "
                 "has it)" if known else "  skips: unknown (only the extended streaming history records them)")
    sessions, median, longest, longest_date = connection.execute(
        "SELECT count(*), median(minutes), max(minutes), arg_max(local_date, minutes) FROM fct_sessions").fetchall()[0]
    if sessions:
        lines.append(f"  sessions: {sessions:,}, typically {median:.0f} minutes; the longest {longest:.0f} minutes, on "
                     f"{longest_date} (a pause of more than 30 minutes ends one)")
    current = connection.execute("SELECT days, streak_start FROM current_streak()").fetchall()
    longest_streak = connection.execute(
        "SELECT days, streak_start, streak_end FROM mart_streaks ORDER BY days DESC, streak_start LIMIT 1").fetchall()
    if longest_streak:
        days, start, end = longest_streak[0]
        now = (f"current {_count(current[0][0], 'day')} (since {current[0][1]})" if current
               else "no current streak (none ends today or yesterday)")
        lines.append(f"  streaks of days with a stream: {now}; the longest {_count(days, 'day')}, {start} to {end}")
    year = connection.execute(
        "SELECT year, minutes, days_listened, new_artists, top_artists FROM mart_year_in_review ORDER BY year DESC "
        "LIMIT 1").fetchall()
    if year:
        number, minutes, days, new_artists, top_artists = year[0]
        lines.append(f"  {number}: {minutes:,.0f} minutes on {_count(days, 'day')}, {_count(new_artists, 'new artist')}"
                     + (f", most streamed: {', '.join(top_artists[:3])}" if top_artists else "")
                     + " (every year: SELECT * FROM mart_year_in_review)")
    mood = connection.execute("""
        SELECT sum(streams), sum(streams_with_features), sum(happy_energetic), sum(calm_content), sum(tense_angry),
               sum(sad_low) FROM mart_mood_monthly""").fetchall()[0]
    if mood[1]:
        streams, featured, *quadrants = mood
        shares = ", ".join(f"{name} {count / featured:.0%}" for name, count in
                           zip(("happy-energetic", "calm-content", "tense-angry", "sad-low"), quadrants))
        lines.append(f"  mood: {shares} of the {featured / streams:.0%} of streams whose track has audio features "
                     "(SELECT * FROM mart_mood_monthly)")
    modes = connection.execute("SELECT mode_id, centre_valence, centre_energy, top_artists[1], silhouette "
                               "FROM mart_listening_modes ORDER BY mode_id").fetchall()
    if modes:
        described = "; ".join(f"{mode_id}: valence {valence:.2f}, energy {energy:.2f} ({artist})"
                              for mode_id, valence, energy, artist, _ in modes)
        lines.append(f"  listening modes (silhouette {modes[0][4]:.2f}): {described}")
        suggested = connection.execute("SELECT track_name, artist_name, score FROM recommendations(mode_id := 1, n := 3)"
                                       ).fetchall()
        if suggested:
            lines.append("  never streamed, closest to mode 1: " + ", ".join(
                f"{track} by {artist} ({score:.2f})" for track, artist, score in suggested)
                + " (SELECT * FROM recommendations(policy := 'coach', mode_id := 1), for reflection, not diagnosis)")
    return lines


_RANGES = {"short_term": "the last 4 weeks", "medium_term": "the last 6 months", "long_term": "all time"}


def spotify_view_lines(connection) -> list[str]:
    """Spotify's top artist for each of its windows beside yours over the same dates, and the playlists you play
    (counting rules, section 10); empty until Spotify's view has been pulled."""
    lines = []
    rows = connection.execute("""
        SELECT compared.time_range, compared.item_name, compared.own_rank, compared.window_start, compared.window_end,
               (SELECT count(*) FROM mart_top_items_compared AS other
                WHERE other.time_range = compared.time_range AND other.item_type = 'artist'
                  AND other.spotify_rank <= 10 AND other.own_rank <= 10) AS agreeing
        FROM mart_top_items_compared AS compared
        WHERE compared.item_type = 'artist' AND compared.spotify_rank = 1
        ORDER BY list_position(['short_term', 'medium_term', 'long_term'], compared.time_range)""").fetchall()
    for time_range, spotify_top, own_rank, start, end, agreeing in rows:
        own = connection.execute("SELECT artist_name, streams FROM top_artists(coalesce(?, DATE '0001-01-01'), ?, n := 1)",
                                 [start, end]).fetchall()
        yours = (f"by your streams {own[0][0]} ({_count(own[0][1], 'stream')})" if own
                 else "you streamed nothing in that window")
        where = f"yours #{own_rank}" if own_rank else "not streamed by you then"
        lines.append(f"  {_RANGES[time_range]} (to {end}): Spotify says {spotify_top} ({where}); {yours}; "
                     f"{agreeing} of Spotify's top 10 are in your top 10")
    playlists = connection.execute("""
        SELECT count(*), sum(tracks), sum(tracks_never_streamed),
               arg_max(name, streams_last_30_days), max(streams_last_30_days), count_if(streams_last_30_days = 0)
        FROM mart_playlist_listening""").fetchall()[0]
    if playlists[0]:
        count, tracks, never, busiest, busiest_streams, idle = playlists
        lines.append(f"  playlists: {_count(count, 'playlist')} of {_count(tracks or 0, 'track')}, "
                     f"{never or 0:,} never streamed; the most played in the last 30 days {busiest} "
                     f"({_count(busiest_streams or 0, 'stream')}), {idle:,} not played at all then")
    return lines


def print_results(settings: SpotifySettings, top: int = 5) -> None:
    path = settings.published_marts_path
    if not path.exists():
        print("\n(no published marts yet: run `spotify-assets build`)")
        return
    connection = connect_published(path)
    try:
        plays, streams, first, last, hours = connection.execute(
            "SELECT count(*), count_if(is_stream), min(local_date), max(local_date), sum(ms_played) / 3600000.0 "
            "FROM fct_plays").fetchall()[0]
        episodes = connection.execute("SELECT count(*) FROM fct_episode_plays").fetchall()[0][0]
        timezone = marts_timezone(connection, settings.timezone_name)
        if not plays:
            print("\nno music plays yet: import an export (spotify-assets import PATH) or poll (spotify-assets poll)")
            return
        print(f"\nlistening history ({timezone}): {_count(plays, 'music play')}, {_count(streams, 'stream')} (30 s or "
              f"more), {_count(round(hours or 0), 'hour')}, {_count(episodes, 'episode and audiobook play')}, {first} to "
              f"{last}")
        if timezone != settings.timezone_name:
            print(f"(the time zone setting is {settings.timezone_name} now; these figures stay in {timezone} until the "
                  "next build: `spotify-assets build`)")
        print(f"\ntop {top} artists, all time:")
        for rank, (_, name, count) in enumerate(connection.execute(
                "SELECT artist_key, artist_name, streams FROM top_artists(?, ?, n := ?)", [first, last, top]).fetchall(), start=1):
            print(f"  {rank}. {name} ({_count(count, 'stream')})")
        print(f"\ntop {top} tracks, all time:")
        for rank, (_, track, artist, count) in enumerate(connection.execute(
                "SELECT track_key, track_name, artist_name, streams FROM top_tracks(?, ?, n := ?)", [first, last, top]).fetchall(), start=1):
            print(f"  {rank}. {track} by {artist} ({_count(count, 'stream')})")
        genres = connection.execute("SELECT tag_name, streams FROM top_genres(?, ?, n := ?)", [first, last, top]).fetchall()
        if genres:
            print(f"\ntop {top} genres, all time (Last.fm tags; a stream of a track with several counts in part):")
            for rank, (name, streams) in enumerate(genres, start=1):
                print(f"  {rank}. {name} ({streams:,.0f} streams)")
        cells = {(weekday, hour): count for weekday, hour, count in connection.execute(
            "SELECT iso_weekday, local_hour, streams FROM mart_heatmap_weekday_hour").fetchall()}
        print("\nstreams by weekday and hour:")
        print("\n".join(heatmap_lines(cells)))
        print("\nhow you listen:")
        print("\n".join(listening_habit_lines(connection)))
        view = spotify_view_lines(connection)
        if view:
            print("\nSpotify's view and yours (SELECT * FROM mart_top_items_compared, mart_playlist_listening):")
            print("\n".join(view))
    finally:
        connection.close()
    print(f"\npublished marts: {path}  (query them: {Path(sys.executable).with_name('duckdb')} -readonly {path})")


def print_summary(settings: SpotifySettings) -> None:
    if not print_ingest_report(settings):
        return
    print_results(settings)
    report = settings.reports_path / REPORT_FILE_NAME
    if report.exists():
        print(f"\nthe listening report (open it in a browser): {report.as_uri()}")
