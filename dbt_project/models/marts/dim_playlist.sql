-- Each listener's playlists as its latest pull lists them (counting rules, section 10), one row per playlist id (a playlist listed
-- twice keeps its first place).
with latest as (
    select listener, max(pulled_on) as pulled_on from {{ ref('stg_spotify_api__playlists') }} group by listener
),

playlists as (
    select playlists.*
    from {{ ref('stg_spotify_api__playlists') }} as playlists
    inner join latest on playlists.listener = latest.listener and playlists.pulled_on = latest.pulled_on
    where playlists.playlist_id is not null
    qualify row_number() over (partition by playlists.listener, playlists.playlist_id order by playlists.position) = 1
),

items as (
    select listener, playlist_id, snapshot_id, count(*) as tracks
    from {{ ref('stg_spotify_api__playlist_items') }}
    group by listener, playlist_id, snapshot_id
)

select
    playlists.listener,
    playlists.playlist_id,
    playlists.name,
    playlists.owner_is_me,
    cast(coalesce(items.tracks, playlists.items_total) as bigint) as tracks,
    playlists.snapshot_id,
    items.tracks is not null as items_known,
    playlists.items_status,
    playlists.is_collaborative,
    playlists.is_public,
    playlists.description,
    playlists.position,
    playlists.pulled_on as snapshot_date
from playlists
left join items
    on items.listener = playlists.listener
    and items.playlist_id = playlists.playlist_id
    and items.snapshot_id = playlists.snapshot_id
