-- Range queries over the published marts, for any inclusive range of local dates.
-- They answer from the pre-counted buckets: whole years where the range covers a year, whole
-- months where it covers a month, and day buckets only at the edges. They and the tables live in the
-- published file's main schema; table names are unqualified, so the macros work whether marts.duckdb is
-- opened directly or attached under another name.

-- The buckets that tile [start_date, end_date] exactly, largest first: the whole years inside the range, the
-- whole months inside it but outside those years, and the days inside it but outside those months. Each kind
-- is one interval of bucket starts, so a bucket row is tested with comparisons alone (a join with the list of
-- buckets took a third longer at a million plays: bench/RESULTS.md).
CREATE OR REPLACE MACRO full_months_from(start_date) AS
    CAST(CASE WHEN day(CAST(start_date AS DATE)) = 1 THEN CAST(start_date AS DATE)
              ELSE date_trunc('month', CAST(start_date AS DATE)) + INTERVAL 1 MONTH END AS DATE);

CREATE OR REPLACE MACRO full_years_from(start_date) AS
    CAST(CASE WHEN month(CAST(start_date AS DATE)) = 1 AND day(CAST(start_date AS DATE)) = 1 THEN CAST(start_date AS DATE)
              ELSE date_trunc('year', CAST(start_date AS DATE)) + INTERVAL 1 YEAR END AS DATE);

-- Half-open intervals: the whole months end where the month of the day after end_date starts, likewise years.
CREATE OR REPLACE MACRO in_range_buckets(bucket_grain, bucket_start, start_date, end_date) AS
    CASE bucket_grain
        WHEN 'year' THEN bucket_start >= full_years_from(start_date)
            AND bucket_start < date_trunc('year', CAST(end_date AS DATE) + 1)
        WHEN 'month' THEN bucket_start >= full_months_from(start_date)
            AND bucket_start < date_trunc('month', CAST(end_date AS DATE) + 1)
            AND NOT (bucket_start >= full_years_from(start_date) AND bucket_start < date_trunc('year', CAST(end_date AS DATE) + 1))
        WHEN 'day' THEN bucket_start >= CAST(start_date AS DATE) AND bucket_start <= CAST(end_date AS DATE)
            AND NOT (bucket_start >= full_months_from(start_date) AND bucket_start < date_trunc('month', CAST(end_date AS DATE) + 1))
        ELSE false
    END;

-- What a top list ranks by: streams (the default) or milliseconds played ('minutes'); anything else is an error
-- naming both.
CREATE OR REPLACE MACRO ranked_by(order_by, streams, ms_played) AS
    CASE order_by
        WHEN 'streams' THEN CAST(streams AS DOUBLE)
        WHEN 'minutes' THEN CAST(ms_played AS DOUBLE)
        ELSE error('order_by must be streams or minutes, not ' || order_by)
    END;

-- Top artists by streams (order_by := 'minutes': by minutes played); ties by artist name in code-point order
-- (UTF-8 bytes order the same way). `minutes` counts every music play, skips included (section 9).
-- Sums group on the 64-bit artist_id (several times faster than on the text key); names join afterwards.
CREATE OR REPLACE MACRO top_artists(start_date, end_date, n := 10, order_by := 'streams') AS TABLE
WITH sums AS (
    SELECT bucket.artist_id, CAST(sum(bucket.streams) AS BIGINT) AS streams,
           CAST(sum(bucket.ms_played) AS BIGINT) AS ms_played
    FROM agg_artist_buckets AS bucket
    WHERE in_range_buckets(bucket.bucket_grain, bucket.bucket_start, start_date, end_date)
    GROUP BY bucket.artist_id
)
SELECT artist.artist_key, artist.artist_name, sums.streams, CAST(sums.ms_played AS DOUBLE) / 60000 AS minutes
FROM sums
JOIN dim_artist AS artist ON artist.artist_id = sums.artist_id
WHERE ranked_by(order_by, sums.streams, sums.ms_played) > 0
ORDER BY ranked_by(order_by, sums.streams, sums.ms_played) DESC, encode(artist.artist_name)
LIMIT n;

-- Top tracks by streams (or minutes); ties by track name, then artist name, in code-point order.
CREATE OR REPLACE MACRO top_tracks(start_date, end_date, n := 10, order_by := 'streams') AS TABLE
WITH sums AS (
    SELECT bucket.track_id, CAST(sum(bucket.streams) AS BIGINT) AS streams,
           CAST(sum(bucket.ms_played) AS BIGINT) AS ms_played
    FROM agg_track_buckets AS bucket
    WHERE in_range_buckets(bucket.bucket_grain, bucket.bucket_start, start_date, end_date)
    GROUP BY bucket.track_id
)
SELECT track.track_key, track.track_name, track.artist_name, sums.streams,
       CAST(sums.ms_played AS DOUBLE) / 60000 AS minutes
FROM sums
JOIN dim_track AS track ON track.track_id = sums.track_id
WHERE ranked_by(order_by, sums.streams, sums.ms_played) > 0
ORDER BY ranked_by(order_by, sums.streams, sums.ms_played) DESC, encode(track.track_name), encode(track.artist_name)
LIMIT n;

-- Streams per local hour for every date of the range (zeros included), for everything, one artist
-- or one track.
CREATE OR REPLACE MACRO heatmap(start_date, end_date, artist_key := NULL, track_key := NULL) AS TABLE
WITH days AS (
    SELECT CAST(day_start AS DATE) AS local_date
    FROM unnest(generate_series(CAST(start_date AS DATE), CAST(end_date AS DATE), INTERVAL 1 DAY)) AS d(day_start)
),
counted AS (
    SELECT bucket.bucket_start AS local_date, bucket.hourly_streams
    FROM agg_track_buckets AS bucket
    WHERE track_key IS NOT NULL AND bucket.bucket_grain = 'day' AND bucket.track_key = track_key
      AND bucket.bucket_start BETWEEN CAST(start_date AS DATE) AND CAST(end_date AS DATE)
    UNION ALL
    SELECT bucket.bucket_start, bucket.hourly_streams
    FROM agg_artist_buckets AS bucket
    WHERE track_key IS NULL AND artist_key IS NOT NULL AND bucket.bucket_grain = 'day' AND bucket.artist_key = artist_key
      AND bucket.bucket_start BETWEEN CAST(start_date AS DATE) AND CAST(end_date AS DATE)
    UNION ALL
    SELECT daily.local_date, daily.hourly_streams
    FROM agg_daily_streams AS daily
    WHERE track_key IS NULL AND artist_key IS NULL
      AND daily.local_date BETWEEN CAST(start_date AS DATE) AND CAST(end_date AS DATE)
)
SELECT
    days.local_date,
    isodow(days.local_date) AS iso_weekday,
    -- Coalesced as variable-length lists: DuckDB before 2.0 has no CASE (coalesce) over fixed-size arrays.
    CAST(coalesce(CAST(counted.hourly_streams AS INTEGER[]), list_resize(CAST([] AS INTEGER[]), 24, 0)) AS INTEGER[24])
        AS hourly_streams
FROM days
LEFT JOIN counted ON counted.local_date = days.local_date
ORDER BY days.local_date;

-- Which tracks filled one local hour of one local date.
CREATE OR REPLACE MACRO hour_drilldown(local_date, local_hour) AS TABLE
SELECT drilldown.track_name, drilldown.artist_name, drilldown.streams
FROM mart_hour_drilldown AS drilldown
WHERE drilldown.local_date = CAST(local_date AS DATE) AND drilldown.local_hour = local_hour
ORDER BY drilldown.streams DESC, encode(drilldown.track_name), encode(drilldown.artist_name);

-- Top genres by weighted streams (or minutes: weighted milliseconds played, skips included), each play split
-- across its track's genres, tracks inheriting their artist's; ties by genre name in code-point order.
CREATE OR REPLACE MACRO top_genres(start_date, end_date, n := 10, order_by := 'streams') AS TABLE
WITH sums AS (
    SELECT genre.tag_key, sum(genre.streams) AS streams, sum(genre.ms_played) AS ms_played
    FROM agg_genre_daily AS genre
    WHERE genre.local_date BETWEEN CAST(start_date AS DATE) AND CAST(end_date AS DATE)
    GROUP BY genre.tag_key
)
SELECT sums.tag_key, tags.tag_name, sums.streams, sums.ms_played / 60000 AS minutes
FROM sums
JOIN dim_tag AS tags ON tags.tag_key = sums.tag_key
WHERE ranked_by(order_by, sums.streams, sums.ms_played) > 0
ORDER BY ranked_by(order_by, sums.streams, sums.ms_played) DESC, encode(tags.tag_name)
LIMIT n;

-- The tracks skipped most often in a range (counting rules, section 9): skip rate = skips / plays whose skip is known
-- (an extended-export record behind them), among tracks with at least min_plays such plays; ties by more skips, then
-- by track name and artist name in code-point order.
CREATE OR REPLACE MACRO most_skipped_tracks(start_date, end_date, n := 10, min_plays := 5) AS TABLE
WITH sums AS (
    SELECT bucket.track_id, CAST(sum(bucket.plays_known) AS BIGINT) AS plays_known,
           CAST(sum(bucket.skips) AS BIGINT) AS skips
    FROM agg_track_buckets AS bucket
    WHERE in_range_buckets(bucket.bucket_grain, bucket.bucket_start, start_date, end_date)
    GROUP BY bucket.track_id
)
SELECT track.track_key, track.track_name, track.artist_name, sums.plays_known, sums.skips,
       CAST(sums.skips AS DOUBLE) / sums.plays_known AS skip_rate
FROM sums
JOIN dim_track AS track ON track.track_id = sums.track_id
WHERE sums.plays_known >= greatest(min_plays, 1)
ORDER BY skip_rate DESC, sums.skips DESC, encode(track.track_name), encode(track.artist_name)
LIMIT n;

-- The artists first streamed in a range (counting rules, section 9: discovery), with their streams within the range,
-- by first stream date, then artist name in code-point order.
CREATE OR REPLACE MACRO new_artists(start_date, end_date) AS TABLE
WITH discovered AS (
    SELECT artist.artist_id, artist.artist_key, artist.artist_name, artist.first_stream_date
    FROM dim_artist AS artist
    WHERE artist.first_stream_date BETWEEN CAST(start_date AS DATE) AND CAST(end_date AS DATE)
), sums AS (
    SELECT bucket.artist_id, CAST(sum(bucket.streams) AS BIGINT) AS streams
    FROM agg_artist_buckets AS bucket
    WHERE in_range_buckets(bucket.bucket_grain, bucket.bucket_start, start_date, end_date)
      AND bucket.artist_id IN (SELECT artist_id FROM discovered)
    GROUP BY bucket.artist_id
)
SELECT discovered.artist_key, discovered.artist_name, discovered.first_stream_date, sums.streams
FROM discovered
JOIN sums ON sums.artist_id = discovered.artist_id
ORDER BY discovered.first_stream_date, encode(discovered.artist_name);

-- The current streak (counting rules, section 9): the streak that ends today or yesterday in the listener's zone (the
-- zone the marts were computed in), else no row. `today` stands in for the current local date.
CREATE OR REPLACE MACRO current_streak(today := NULL) AS TABLE
SELECT streak.streak_start, streak.streak_end, streak.days, streak.streams
FROM mart_streaks AS streak, warehouse_settings AS setting
WHERE streak.streak_end >= coalesce(CAST(today AS DATE), CAST(timezone(setting.timezone, current_timestamp) AS DATE)) - 1
  AND streak.streak_end <= coalesce(CAST(today AS DATE), CAST(timezone(setting.timezone, current_timestamp) AS DATE));

-- The rows of a playlist (by name; every playlist of that name) whose track you never streamed up to the pull's day
-- (counting rules, section 10), in the playlist's order: local files and tracks Spotify no longer has included.
CREATE OR REPLACE MACRO playlist_tracks_never_streamed(playlist_name) AS TABLE
SELECT bridge.playlist_id, bridge.position, bridge.track_name, bridge.artist_name, bridge.track_uri, bridge.added_at_utc,
       bridge.is_local, bridge.is_unavailable
FROM bridge_playlist_track AS bridge
JOIN dim_playlist AS playlist ON playlist.playlist_id = bridge.playlist_id
WHERE playlist.name = playlist_name AND bridge.streams = 0
ORDER BY bridge.playlist_id, bridge.position;

-- The audio features of the top tracks of a range (counting rules, section 11): top_tracks' list, each track with its
-- features where a catalog gave them (null otherwise), and features_source.
CREATE OR REPLACE MACRO top_track_features(start_date, end_date, n := 10) AS TABLE
SELECT top.track_name, top.artist_name, top.streams, track.danceability, track.energy, track.valence, track.tempo,
       track.acousticness, track.instrumentalness, track.speechiness, track.liveness, track.loudness,
       track.features_source
FROM top_tracks(start_date, end_date, n := n) AS top
JOIN dim_track AS track ON track.track_key = top.track_key
ORDER BY top.streams DESC, encode(top.track_name), encode(top.artist_name);

-- Recommendations that explain themselves (counting rules, section 11), for reflection: tracks you never streamed
-- (mart_catalog_candidates), ranked by closeness to a target on valence, energy, acousticness and danceability. The
-- target is the centre of listening mode `mode_id` (NULL: the current local hour's usual mode, mart_modes_by_hour) for
-- 'mirror'; for 'coach', that centre with valence and energy each raised by a step of at most 0.25 (never above 1).
-- score = the mean over the four features of (1 - |feature - target|); reason_<feature> is each feature's share of it,
-- so the reasons sum to the score; target_mode says which mode's centre was the start. (A column named like a
-- parameter would read as the parameter inside the macro, hence chosen.* qualified throughout.)
CREATE OR REPLACE MACRO recommendations(policy := 'mirror', mode_id := NULL, n := 10) AS TABLE
WITH chosen AS (
    SELECT mode.*
    FROM mart_listening_modes AS mode, warehouse_settings AS setting
    WHERE mode.mode_id = coalesce(
        mode_id,
        (SELECT hour.mode_id FROM mart_modes_by_hour AS hour
         WHERE hour.local_hour = hour(timezone(setting.timezone, current_timestamp))))
),
target AS (
    SELECT chosen.mode_id AS target_mode_id,
           CASE WHEN policy = 'coach' THEN least(chosen.centre_valence + 0.25, 1.0) ELSE chosen.centre_valence END
               AS valence,
           CASE WHEN policy = 'coach' THEN least(chosen.centre_energy + 0.25, 1.0) ELSE chosen.centre_energy END
               AS energy,
           chosen.centre_acousticness AS acousticness, chosen.centre_danceability AS danceability
    FROM chosen
    WHERE policy IN ('mirror', 'coach')
),
scored AS (
    SELECT candidate.track_id, candidate.track_name, candidate.artist_name, target.target_mode_id AS target_mode,
           (1 - abs(candidate.valence - target.valence)) / 4 AS reason_valence,
           (1 - abs(candidate.energy - target.energy)) / 4 AS reason_energy,
           (1 - abs(candidate.acousticness - target.acousticness)) / 4 AS reason_acousticness,
           (1 - abs(candidate.danceability - target.danceability)) / 4 AS reason_danceability
    FROM mart_catalog_candidates AS candidate, target
)
SELECT track_id, track_name, artist_name,
       reason_valence + reason_energy + reason_acousticness + reason_danceability AS score,
       reason_valence, reason_energy, reason_acousticness, reason_danceability, target_mode
FROM scored
ORDER BY score DESC, encode(track_name), encode(artist_name), track_id
LIMIT n;
