-- One row per rank of a day's top list, Spotify's own ranking (counting rules, section 10), with the identity keys of
-- section 5 from its names: an artist's from its name, a track's from its name and its first credited artist's.
with items as (
    select
        snapshot_date,
        time_range,
        item_type,
        rank,
        item_id,
        item_uri,
        item_name,
        case when item_type = 'track' then json_extract_string(artists_json, '$[0].name') end as first_artist_name,
        album_name,
        _landed_file as landed_file,
        _loaded_at as loaded_at,
        listener
    from {{ source('spotify_api', 'spotify_top_items') }}
)

select
    items.*,
    case item_type
        when 'artist' then normalize_name(item_name)
        else normalize_name(first_artist_name)
    end as artist_key,
    case when item_type = 'track' then normalize_name(first_artist_name) || chr(31) || normalize_name(item_name) end
        as track_key
from items
