-- Your year (counting rules, section 9): one row per listener and local year with a music play. A table recomputed on every
-- build from the small pre-counted marts (days, year buckets, sessions, streaks, artists): a late export can move an
-- artist's first stream or join two streaks across years, so any year row can change.
with days as (
    select listener, year(local_date) as year, local_date, streams, hourly_streams, ms_played, skips, plays_known
    from {{ ref('agg_daily_streams') }}
)

, totals as (
    select
        listener,
        year,
        sum(ms_played) / 60000.0 as minutes,
        cast(sum(streams) as bigint) as streams,
        cast(count(*) filter (where streams > 0) as integer) as days_listened,
        cast(sum(skips) as bigint) as skips,
        cast(sum(plays_known) as bigint) as plays_known
    from days
    group by listener, year
)

-- the date with the most streams; ties: the earliest
, busiest_dates as (
    select listener, year, local_date as busiest_date
    from days
    where streams > 0
    qualify row_number() over (partition by listener, year order by streams desc, local_date) = 1
)

, hours as (
    select listener, year, local_hour, sum(streams) as streams
    from (
        select listener, year, cast(hour_index - 1 as integer) as local_hour, hourly_streams[hour_index] as streams
        from days, range(1, 25) as hours(hour_index)
    )
    group by listener, year, local_hour
)

, busiest_hours as (
    select listener, year, local_hour as busiest_local_hour
    from hours
    where streams > 0
    qualify row_number() over (partition by listener, year order by streams desc, local_hour) = 1
)

-- The 5 most streamed artists and tracks of each year (macro top_five_per_year)
, top_artists as (
    {{ top_five_per_year(ref('agg_artist_buckets'), ref('dim_artist'), 'artist_key', 'entity.artist_name',
                         'encode(entity.artist_name)') }}
)

, top_tracks as (
    {{ top_five_per_year(ref('agg_track_buckets'), ref('dim_track'), 'track_key', 'entity.track_name',
                         'encode(entity.track_name), encode(entity.artist_name)') }}
)

, new_artists as (
    select listener, year(first_stream_date) as year, cast(count(*) as bigint) as new_artists
    from {{ ref('dim_artist') }}
    where first_stream_date is not null
    group by 1, 2
)

, longest_sessions as (
    select listener, year(local_date) as year, max(minutes) as longest_session_minutes
    from {{ ref('fct_sessions') }}
    group by 1, 2
)

-- the days of each streak that fall inside each year it touches
, streak_years as (
    select
        years.listener,
        years.year,
        max(least(streaks.streak_end, make_date(years.year, 12, 31))
            - greatest(streaks.streak_start, make_date(years.year, 1, 1)) + 1) as longest_streak_days
    from {{ ref('mart_streaks') }} as streaks
    inner join (select distinct listener, year from days) as years
        on years.listener = streaks.listener
        and years.year between year(streaks.streak_start) and year(streaks.streak_end)
    group by years.listener, years.year
)

, episodes as (
    select listener, year(local_date) as year, sum(ms_played) / 60000.0 as episode_minutes
    from {{ ref('fct_episode_plays') }}
    group by 1, 2
)

select
    totals.listener,
    totals.year,
    totals.minutes,
    totals.streams,
    totals.days_listened,
    coalesce(top_artists.names, cast([] as varchar[])) as top_artists,
    coalesce(top_tracks.names, cast([] as varchar[])) as top_tracks,
    coalesce(new_artists.new_artists, 0) as new_artists,
    longest_sessions.longest_session_minutes,
    cast(coalesce(streak_years.longest_streak_days, 0) as integer) as longest_streak_days,
    busiest_dates.busiest_date,
    busiest_hours.busiest_local_hour,
    totals.skips / nullif(totals.plays_known, 0) as skip_rate,
    totals.plays_known,
    coalesce(episodes.episode_minutes, 0) as episode_minutes
from totals
left join busiest_dates using (listener, year)
left join busiest_hours using (listener, year)
left join top_artists using (listener, year)
left join top_tracks using (listener, year)
left join new_artists using (listener, year)
left join longest_sessions using (listener, year)
left join streak_years using (listener, year)
left join episodes using (listener, year)
order by totals.listener, totals.year
