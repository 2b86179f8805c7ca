-- Spotify's top lists of the latest pulled day beside your own ranks by streams (counting rules, section 10): over
-- the local dates d-27..d (short_term), d-181..d (medium_term) and everything up to d (long_term), where d is that
-- day. own_rank is the position top_artists / top_tracks would give the item over that window (section 7's order);
-- null when it has no stream there. Items meet your history through their identity keys (section 5).
with latest as (
    select listener, max(snapshot_date) as snapshot_date from {{ ref('fct_spotify_top_items') }} group by listener
),

windows as (
    select listener, 'short_term' as time_range, snapshot_date - 27 as window_start, snapshot_date as window_end
    from latest
    union all
    select listener, 'medium_term', snapshot_date - 181, snapshot_date from latest
    union all
    select listener, 'long_term', cast(null as date), snapshot_date from latest
),

window_streams as (
    select plays.listener, windows.time_range, plays.artist_key, plays.track_key, plays.ms_played
    from {{ ref('fct_plays') }} as plays
    inner join windows
        on windows.listener = plays.listener
        and plays.local_date <= windows.window_end
        and (windows.window_start is null or plays.local_date >= windows.window_start)
    where plays.is_stream
),

own_artists as (
    select
        sums.listener,
        sums.time_range,
        'artist' as item_type,
        sums.artist_key as item_key,
        sums.streams,
        row_number() over (partition by sums.listener, sums.time_range
                           order by sums.streams desc, encode(artist.artist_name)) as own_rank
    from (
        select listener, time_range, artist_key, count(*) as streams from window_streams group by all
    ) as sums
    inner join {{ ref('dim_artist') }} as artist
        on artist.listener = sums.listener and artist.artist_key = sums.artist_key
),

own_tracks as (
    select
        sums.listener,
        sums.time_range,
        'track' as item_type,
        sums.track_key as item_key,
        sums.streams,
        row_number() over (
            partition by sums.listener, sums.time_range
            order by sums.streams desc, encode(track.track_name), encode(track.artist_name)
        ) as own_rank
    from (
        select listener, time_range, track_key, count(*) as streams from window_streams group by all
    ) as sums
    inner join {{ ref('dim_track') }} as track on track.listener = sums.listener and track.track_key = sums.track_key
),

own as (
    select * from own_artists
    union all
    select * from own_tracks
)

select
    spotify.listener,
    spotify.snapshot_date,
    spotify.time_range,
    spotify.item_type,
    spotify.rank as spotify_rank,
    own.own_rank,
    spotify.item_name,
    spotify.artist_name,
    spotify.item_key,
    cast(coalesce(own.streams, 0) as bigint) as streams_in_window,
    windows.window_start,
    windows.window_end
from {{ ref('fct_spotify_top_items') }} as spotify
inner join latest on latest.listener = spotify.listener and spotify.snapshot_date = latest.snapshot_date
inner join windows on windows.listener = spotify.listener and windows.time_range = spotify.time_range
left join own
    on own.listener = spotify.listener
    and own.time_range = spotify.time_range
    and own.item_type = spotify.item_type
    and own.item_key = spotify.item_key
