-- One row per item of every stored recently-played response.
select
    played_at as played_at_utc,
    track_id,
    track_uri,
    track_name,
    json_extract_string(artists_json, '$[0].name') as artist_name,
    album_name,
    album_id,
    album_release_date,
    duration_ms,
    isrc,
    explicit as is_explicit,
    is_local,
    artists_json,
    context_type,
    context_uri,
    _response_file as response_file,
    _item_index as item_index,
    _loaded_at as loaded_at,
    listener
from {{ source('spotify_api', 'recently_played_items') }}
