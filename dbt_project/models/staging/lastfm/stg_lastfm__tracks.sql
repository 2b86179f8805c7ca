-- One row per track asked about on Last.fm.
select
    track_key,
    artist_name,
    track_name,
    found as is_found,
    listeners,
    playcount,
    duration_ms,
    tags_json,
    _loaded_at as loaded_at
from {{ source('lastfm', 'lastfm_tracks') }}
