-- One row per item of a playlist at one snapshot_id (counting rules, section 10), with the identity keys of section 5
-- for tracks (local files included, from the names they carry). Unavailable: Spotify sent no object for the entry,
-- a catalog track without an id, or one it marks unplayable.
select
    playlist_id,
    snapshot_id,
    position,
    coalesce(item_type, 'track') as item_type,
    item_id,
    item_uri,
    item_name,
    json_extract_string(artists_json, '$[0].name') as artist_name,
    album_name,
    duration_ms,
    isrc,
    added_at as added_at_utc,
    is_local,
    coalesce(item_name is null or (not is_local and item_id is null) or is_playable = false, false) as is_unavailable,
    case
        when coalesce(item_type, 'track') = 'track' and item_name is not null
            and json_extract_string(artists_json, '$[0].name') is not null
        then normalize_name(json_extract_string(artists_json, '$[0].name')) || chr(31) || normalize_name(item_name)
    end as track_key,
    _landed_file as landed_file,
    _loaded_at as loaded_at,
    listener
from {{ source('spotify_api', 'playlist_items') }}
