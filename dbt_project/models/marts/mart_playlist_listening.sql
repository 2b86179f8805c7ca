-- Which playlists you play (counting rules, section 10): per playlist of dim_playlist, its rows, those whose track you
-- have streamed up to the pull's day d, and the streams of its tracks on the local dates d-29..d (a track listed twice
-- counts once).
with last_30_days as (
    select plays.listener, plays.track_key, count(*) as streams
    from {{ ref('fct_plays') }} as plays
    inner join (
        select distinct bridge.listener, bridge.track_key, playlists.snapshot_date
        from {{ ref('bridge_playlist_track') }} as bridge
        inner join {{ ref('dim_playlist') }} as playlists
            on playlists.listener = bridge.listener and playlists.playlist_id = bridge.playlist_id
        where bridge.track_key is not null
    ) as listed
        on listed.listener = plays.listener
        and listed.track_key = plays.track_key
        and plays.local_date between listed.snapshot_date - 29 and listed.snapshot_date
    where plays.is_stream
    group by plays.listener, plays.track_key
),

per_playlist as (
    select
        bridge.listener,
        bridge.playlist_id,
        count(*) as tracks,
        count(*) filter (where bridge.streams > 0) as tracks_streamed
    from {{ ref('bridge_playlist_track') }} as bridge
    group by bridge.listener, bridge.playlist_id
),

recent as (
    select tracks.listener, tracks.playlist_id, sum(last_30_days.streams) as streams_last_30_days
    from (select distinct listener, playlist_id, track_key from {{ ref('bridge_playlist_track') }}) as tracks
    inner join last_30_days on last_30_days.listener = tracks.listener and last_30_days.track_key = tracks.track_key
    group by tracks.listener, tracks.playlist_id
)

select
    playlists.listener,
    playlists.playlist_id,
    playlists.name,
    playlists.owner_is_me,
    playlists.snapshot_date,
    cast(coalesce(per_playlist.tracks, 0) as bigint) as tracks,
    cast(coalesce(per_playlist.tracks_streamed, 0) as bigint) as tracks_streamed,
    cast(coalesce(per_playlist.tracks, 0) - coalesce(per_playlist.tracks_streamed, 0) as bigint) as tracks_never_streamed,
    cast(coalesce(recent.streams_last_30_days, 0) as bigint) as streams_last_30_days,
    playlists.items_known
from {{ ref('dim_playlist') }} as playlists
left join per_playlist on per_playlist.listener = playlists.listener and per_playlist.playlist_id = playlists.playlist_id
left join recent on recent.listener = playlists.listener and recent.playlist_id = playlists.playlist_id
