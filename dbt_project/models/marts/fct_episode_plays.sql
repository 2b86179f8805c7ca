-- One row per podcast/video episode or audiobook chapter play; never counted as music.
select
    episode_play_id,
    content_type,
    played_at_utc,
    played_at_local,
    local_date,
    local_hour,
    show_name,
    episode_name,
    item_uri,
    ms_played,
    source,
    seen_in_sources
from {{ ref('int_episode_plays_deduplicated') }}
