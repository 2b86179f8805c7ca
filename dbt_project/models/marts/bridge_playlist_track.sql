-- The items of each playlist in dim_playlist at its current snapshot_id (counting rules, section 10), one row per
-- position: a track listed twice is two rows; local files, episodes and tracks Spotify no longer has are rows too.
-- streams: the track's streams up to the pull's day, in your whole history.
with items as (
    select items.*, playlists.snapshot_date
    from {{ ref('stg_spotify_api__playlist_items') }} as items
    inner join {{ ref('dim_playlist') }} as playlists
        on playlists.listener = items.listener
        and playlists.playlist_id = items.playlist_id
        and playlists.snapshot_id = items.snapshot_id
),

track_streams as (
    select plays.listener, plays.track_key, count(*) as streams
    from {{ ref('fct_plays') }} as plays
    inner join (select distinct listener, track_key, snapshot_date from items) as listed
        on listed.listener = plays.listener and listed.track_key = plays.track_key
        and plays.local_date <= listed.snapshot_date
    where plays.is_stream
    group by plays.listener, plays.track_key
)

select
    items.listener,
    items.playlist_id,
    items.position,
    items.item_type,
    items.track_key,
    items.item_uri as track_uri,
    items.item_name as track_name,
    items.artist_name,
    items.added_at_utc,
    items.is_local,
    items.is_unavailable,
    cast(coalesce(track_streams.streams, 0) as bigint) as streams
from items
left join track_streams on track_streams.listener = items.listener and track_streams.track_key = items.track_key
