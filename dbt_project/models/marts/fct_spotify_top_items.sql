-- Spotify's own top lists (counting rules, section 10): one row per pulled day, time range, item type and rank. A day
-- the pull did not run has no rows.
select
    listener,
    snapshot_date,
    time_range,
    item_type,
    rank,
    item_id,
    item_uri,
    item_name,
    case item_type when 'track' then first_artist_name else item_name end as artist_name,
    coalesce(track_key, artist_key) as item_key,
    artist_key,
    track_key
from {{ ref('stg_spotify_api__top_items') }}
