-- One row per track looked up in the Spotify catalog.
select
    track_id,
    track_uri,
    found as is_found,
    track_name,
    duration_ms,
    isrc,
    album_id,
    album_name,
    album_release_date,
    artists_json,
    _landed_file as landed_file,
    _loaded_at as loaded_at
from {{ source('spotify_api', 'catalog_tracks') }}
