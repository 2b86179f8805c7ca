-- One row per artist asked about on Last.fm.
select
    artist_key,
    artist_name,
    found as is_found,
    tags_json,
    _loaded_at as loaded_at
from {{ source('lastfm', 'lastfm_artists') }}
