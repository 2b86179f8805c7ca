-- One row per track of a catalog file, with the identity keys of counting rules section 5 from its names.
select
    file_hash,
    row_index,
    track_id,
    isrc,
    track_name,
    artist_name,
    album_name,
    normalize_name(artist_name) || chr(31) || normalize_name(track_name) as catalog_track_key,
    danceability,
    energy,
    valence,
    acousticness,
    instrumentalness,
    speechiness,
    liveness,
    tempo,
    loudness,
    duration_ms,
    _loaded_at as loaded_at
from {{ source('catalog_file', 'catalog_file_tracks') }}
