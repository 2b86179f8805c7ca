"""What the report shows, read from the published marts into plain lists (JSON for the page).

The page answers range questions (top lists, their heatmaps, the drilldown) in the browser from the
finest grain there is, streams per local date x hour x track (mart_hour_drilldown), so any range works
offline. Names are sent once and referred to by index, which keeps a million plays to a few megabytes.
"""

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb


def _rows(connection: duckdb.DuckDBPyConnection, query: str, parameters: list | None = None) -> list[tuple]:
    return connection.execute(query, parameters).fetchall()


def _hour_cells_json(connection: duckdb.DuckDBPyConnection, first_date: date) -> str:
    """One flat JSON list of (day index, hour, track index, streams), by day and hour: compact, and the page reads
    a day's hours as one contiguous run. At a million plays that is 2.8 million numbers, which as Python ints
    would cost more than the rest of the report together; so DuckDB writes them as text, one cell per CSV line
    (its CSV writer keeps the order and works in parallel: 0.1 s, where `string_agg(... ORDER BY ...)` sorted on
    one thread for 0.25 s), and the lines joined by commas are the list's items (none of the four is ever NULL,
    which CSV would write as an empty field)."""
    with tempfile.TemporaryDirectory(prefix="listening-report-") as scratch:
        cells = Path(scratch) / "hour_cells.csv"
        quoted_path = str(cells).replace("'", "''")
        connection.execute(f"""
            COPY (SELECT CAST(drilldown.local_date - DATE '{first_date.isoformat()}' AS INTEGER) AS day,
                         drilldown.local_hour, track.track_index, CAST(drilldown.streams AS BIGINT) AS streams
                  FROM mart_hour_drilldown AS drilldown JOIN report_tracks AS track USING (track_key)
                  ORDER BY day, local_hour, track_index)
            TO '{quoted_path}' (HEADER false)""")
        return "[" + cells.read_text().rstrip("\n").replace("\n", ",") + "]"


def report_contents(connection: duckdb.DuckDBPyConnection, timezone_name: str) -> dict:
    """connection: the published marts (see connect_published)."""
    calendar = _rows(connection, "SELECT local_date, streams FROM mart_heatmap_calendar ORDER BY local_date")
    first_date: date | None = calendar[0][0] if calendar else None
    weekday_hour = [[0] * 24 for _ in range(7)]
    for iso_weekday, hour, streams in _rows(connection, "SELECT iso_weekday, local_hour, streams FROM mart_heatmap_weekday_hour"):
        weekday_hour[iso_weekday - 1][hour] = int(streams or 0)
    # Only tracks (and their primary artists) that have a stream can appear in a list; they are numbered
    # in key order, and the page refers to them by number, never by key.
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE report_tracks AS
        SELECT row_number() OVER (ORDER BY track.track_key) - 1 AS track_index, track.track_key, track.track_name,
               track.artist_key
        FROM dim_track AS track
        WHERE track.streams > 0""")
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE report_artists AS
        SELECT row_number() OVER (ORDER BY artist.artist_key) - 1 AS artist_index, artist.artist_key, artist.artist_name
        FROM dim_artist AS artist
        WHERE artist.artist_key IN (SELECT artist_key FROM report_tracks)""")
    artists = [row[0] for row in _rows(connection, "SELECT artist_name FROM report_artists ORDER BY artist_index")]
    tracks = [[name, artist] for name, artist in _rows(connection, """
        SELECT track.track_name, artist.artist_index
        FROM report_tracks AS track JOIN report_artists AS artist USING (artist_key)
        ORDER BY track.track_index""")]
    artist_stats = [list(row) for row in _rows(connection, """
        SELECT artist.streams, artist.plays_known, artist.skips, strftime(artist.first_stream_date, '%Y-%m-%d'),
               artist.longest_streak_days, artist.ms_played
        FROM report_artists JOIN dim_artist AS artist USING (artist_key)
        ORDER BY report_artists.artist_index""")]
    hours = _hour_cells_json(connection, first_date) if first_date is not None else "[]"
    totals = _rows(connection, """
        SELECT count(*), coalesce(count_if(is_stream), 0), coalesce(sum(ms_played), 0) FROM fct_plays""")[0]
    return {
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "timezone": timezone_name,
        "first_date": first_date.isoformat() if first_date else None,
        "daily_streams": [int(streams or 0) for _, streams in calendar],
        "weekday_hour": weekday_hour,
        "year_month": [[year, month, int(streams or 0)] for year, month, streams in _rows(
            connection, "SELECT year, month, streams FROM mart_heatmap_year_month ORDER BY year, month")],
        "artists": artists,
        "tracks": tracks,
        "hours": hours,  # JSON text, spliced into the page as it is
        "totals": {"plays": int(totals[0]), "streams": int(totals[1]), "hours_played": round(totals[2] / 3.6e6)},
        "artist_stats": artist_stats,
        "spotify_view": spotify_view(connection),
        "mood": mood_and_modes(connection),
        **listening_habits(connection, first_date),
    }


def listening_habits(connection: duckdb.DuckDBPyConnection, first_date: date | None) -> dict:
    """Section 9 for the page: skips, each day's sessions, streaks and every year in review."""
    skip_cells = [0] * 336  # (plays whose skip is known, skips) per weekday x hour, Monday 00:00 first
    for weekday, hour, known, skips in _rows(connection, """
            SELECT iso_weekday, local_hour, plays_known, skips FROM mart_skips_weekday_hour"""):
        at = ((weekday - 1) * 24 + hour) * 2
        skip_cells[at:at + 2] = [int(known), int(skips)]
    sessions: list[int] = []
    if first_date is not None:
        # (day index, start minute of that day, end minute counted from the same midnight, plays, streams, milliseconds
        # played, skips, plays whose skip is known) per session, by start
        for row in _rows(connection, f"""
                SELECT CAST(local_date - DATE '{first_date.isoformat()}' AS INTEGER),
                       CAST(hour(started_at_local) * 60 + minute(started_at_local) AS INTEGER),
                       CAST(date_diff('minute', CAST(local_date AS TIMESTAMP), ended_at_local) AS INTEGER),
                       plays, streams, ms_played, skips, plays_known
                FROM fct_sessions ORDER BY started_at_utc"""):
            sessions.extend(int(value) for value in row)
    years = [dict(zip(("year", "minutes", "streams", "days_listened", "top_artists", "top_tracks", "new_artists",
                       "longest_session_minutes", "longest_streak_days", "busiest_date", "busiest_local_hour",
                       "skip_rate", "plays_known", "episode_minutes"), row)) for row in _rows(connection, """
        SELECT year, minutes, streams, days_listened, top_artists, top_tracks, new_artists, longest_session_minutes,
               longest_streak_days, strftime(busiest_date, '%Y-%m-%d'), busiest_local_hour, skip_rate, plays_known,
               episode_minutes
        FROM mart_year_in_review ORDER BY year""")]
    discovery = [[month.isoformat(), int(artists), int(tracks), int(discovering), int(returning)]
                 for month, artists, tracks, discovering, returning in _rows(connection, """
        SELECT month, new_artists, new_tracks, streams_discovering, streams_returning
        FROM mart_discovery_monthly ORDER BY month""")]
    longest = _rows(connection, "SELECT days, strftime(streak_start, '%Y-%m-%d'), strftime(streak_end, '%Y-%m-%d') "
                                "FROM mart_streaks ORDER BY days DESC, streak_start LIMIT 1")
    current = _rows(connection, "SELECT days, strftime(streak_start, '%Y-%m-%d') FROM current_streak()")
    return {
        "skips": {
            "weekday_hour": skip_cells,
            "by": [[dimension, value, int(known), int(skips)] for dimension, value, known, skips in _rows(connection, """
                SELECT dimension, coalesce(value, 'unknown'), plays_known, skips FROM mart_skips_by
                ORDER BY dimension, plays_known DESC, value""")],
            "most_skipped": [list(row) for row in _rows(connection, """
                SELECT track_name, artist_name, plays_known, skips FROM most_skipped_tracks('0001-01-01', '9999-12-31')""")],
        },
        "sessions": sessions,
        "years": years,
        "discovery": discovery,
        "streaks": {"longest": list(longest[0]) if longest else None, "current": list(current[0]) if current else None},
    }


def spotify_view(connection: duckdb.DuckDBPyConnection) -> dict | None:
    """Section 10 for the page: Spotify's top lists of the latest pulled day beside your ranks, your own number one of
    each window, the days of the last 30 without a pull, and the playlists with the tracks you never streamed."""
    latest = _rows(connection, "SELECT max(snapshot_date) FROM fct_spotify_top_items")[0][0]
    playlists = _rows(connection, """
        SELECT listening.playlist_id, listening.name, listening.owner_is_me, listening.tracks, listening.tracks_streamed,
               listening.tracks_never_streamed, listening.streams_last_30_days, listening.items_known,
               strftime(listening.snapshot_date, '%Y-%m-%d')
        FROM mart_playlist_listening AS listening
        ORDER BY listening.streams_last_30_days DESC, encode(listening.name)""")
    if latest is None and not playlists:
        return None
    compared = [list(row) for row in _rows(connection, """
        SELECT time_range, item_type, spotify_rank, own_rank, item_name, artist_name, streams_in_window
        FROM mart_top_items_compared ORDER BY time_range, item_type, spotify_rank""")]
    own_first = {}
    for time_range, start, end in _rows(connection, """
            SELECT DISTINCT time_range, coalesce(window_start, DATE '0001-01-01'), window_end
            FROM mart_top_items_compared"""):
        artist = _rows(connection, "SELECT artist_name, streams FROM top_artists(?, ?, n := 1)", [start, end])
        track = _rows(connection, "SELECT track_name, artist_name, streams FROM top_tracks(?, ?, n := 1)", [start, end])
        own_first[time_range] = {"artist": list(artist[0]) if artist else None, "track": list(track[0]) if track else None}
    pulled = {day for (day,) in _rows(connection, "SELECT DISTINCT snapshot_date FROM fct_spotify_top_items")}
    missing = [(latest - timedelta(days=n)).isoformat() for n in range(30) if latest - timedelta(days=n) not in pulled] \
        if latest else []
    never = {}
    for playlist_id, position, track, artist, is_local, is_unavailable in _rows(connection, """
            SELECT bridge.playlist_id, bridge.position, bridge.track_name, bridge.artist_name, bridge.is_local,
                   bridge.is_unavailable
            FROM bridge_playlist_track AS bridge WHERE bridge.streams = 0 ORDER BY bridge.playlist_id, bridge.position"""):
        never.setdefault(playlist_id, []).append([position, track, artist, is_local, is_unavailable])
    return {
        "snapshot_date": latest.isoformat() if latest else None,
        "missing_days": missing,
        "compared": compared,
        "own_first": own_first,
        "playlists": [[name, owner_is_me, tracks, streamed, never_streamed, recent, known, day,
                       never.get(playlist_id, [])]
                      for playlist_id, name, owner_is_me, tracks, streamed, never_streamed, recent, known, day in playlists],
    }


def mood_and_modes(connection: duckdb.DuckDBPyConnection) -> dict:
    """Section 11 for the page: coverage, mood by weekday x hour and by month, the listening modes, and the top
    recommendations (mirror and coach) of each mode with their reasons."""
    cells = [[None] * 24 for _ in range(7)]  # (streams, with features, mean valence, mean energy)
    for weekday, hour, streams, featured, valence, energy in _rows(connection, """
            SELECT iso_weekday, local_hour, streams, streams_with_features, mean_valence, mean_energy
            FROM mart_mood_weekday_hour"""):
        cells[weekday - 1][hour] = [int(streams), int(featured), valence, energy]
    months = [[month.isoformat(), int(streams), int(featured), valence, energy, int(a), int(b), int(c), int(d)]
              for month, streams, featured, valence, energy, a, b, c, d in _rows(connection, """
        SELECT month, streams, streams_with_features, mean_valence, mean_energy, happy_energetic, calm_content,
               tense_angry, sad_low FROM mart_mood_monthly ORDER BY month""")]
    modes = [dict(zip(("mode_id", "centre_valence", "centre_energy", "centre_acousticness", "centre_danceability",
                       "tracks", "streams", "top_artists", "typical_hours"), row)) for row in _rows(connection, """
        SELECT mode_id, centre_valence, centre_energy, centre_acousticness, centre_danceability, tracks, streams,
               top_artists, typical_hours FROM mart_listening_modes ORDER BY mode_id""")]
    recommendations = {}
    for mode in modes:
        for policy in ("mirror", "coach"):
            recommendations[f"{mode['mode_id']}-{policy}"] = [list(row) for row in _rows(connection, """
                SELECT track_name, artist_name, score, reason_valence, reason_energy, reason_acousticness,
                       reason_danceability FROM recommendations(policy := ?, mode_id := ?, n := 5)""",
                [policy, mode["mode_id"]])]
    return {"cells": cells, "months": months, "modes": modes, "recommendations": recommendations}
