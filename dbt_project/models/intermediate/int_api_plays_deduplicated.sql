-- Rule 1 for the Web API: overlapping polls return the same item again; the same played_at (to the
-- second) and the same track URI is one play.
with records as (
    select
        *,
        concat_ws(':', 'api', response_file, item_index) as record_id
    from {{ ref('stg_spotify_api__recently_played_items') }}
    where track_name is not null and artist_name is not null
),

names as (
    select distinct artist_name, track_name, album_name from records
),

keyed_names as (
    select
        artist_name,
        track_name,
        album_name,
        normalize_name(artist_name) as artist_key,
        normalize_name(artist_name) || chr(31) || normalize_name(track_name) as track_key,
        normalize_name(artist_name) || chr(31) || normalize_name(album_name) as album_key
    from names
),

keyed as (
    select records.*, keyed_names.artist_key, keyed_names.track_key, keyed_names.album_key
    from records
    inner join keyed_names
        on records.artist_name = keyed_names.artist_name
        and records.track_name = keyed_names.track_name
        and records.album_name is not distinct from keyed_names.album_name
),

copies as (
    select
        *,
        count(*) over (partition by date_trunc('second', played_at_utc), coalesce(track_uri, track_key)) as copies_seen,
        row_number() over (
            partition by date_trunc('second', played_at_utc), coalesce(track_uri, track_key)
            order by loaded_at, record_id
        ) as copy_rank
    from keyed
)

select * exclude (copy_rank)
from copies
where copy_rank = 1
