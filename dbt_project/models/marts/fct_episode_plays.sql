{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

-- One row per podcast/video episode or audiobook chapter play; never counted as music.
select
    listener,
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
    seen_in_sources,
    played_on_utc,
    {{ current_batch_at() }} as batch_at
from {{ ref('int_episode_plays_deduplicated') }}
{% if is_incremental() %}
where batch_at > {{ last_batch_at() }}
{% endif %}
