-- One row per playlist of each day's pull of GET /v1/me/playlists (counting rules, section 10).
select
    pulled_on,
    position,
    playlist_id,
    name,
    description,
    owner_is_me,
    collaborative as is_collaborative,
    public as is_public,
    snapshot_id,
    items_total,
    items_status,
    _landed_file as landed_file,
    _loaded_at as loaded_at,
    listener
from {{ source('spotify_api', 'playlists') }}
