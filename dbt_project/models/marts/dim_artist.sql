{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='artist_key',
    post_hook=[
        "{{ refresh_display_names('artist', 'artist_key', 'artist_name') }}",
    ],
) }}

-- One row per primary artist key.
-- Incremental: only keys with plays on the days fct_plays rewrote are aggregated again.
-- `not materialized`: DuckDB would otherwise copy every play into a scratch table before an incremental run's
-- touched keys narrow them down (at a million plays that copy was most of the model's time).
with plays as not materialized (
    select * from {{ ref('fct_plays') }}
)

{% if is_incremental() %}
, touched as (
    select distinct artist_key from plays where batch_at > {{ last_batch_at() }}
)
{% endif %}

select
    artist_key,
    {{ entity_id('artist_key') }} as artist_id,
    any_value(artist_name) as artist_name,
    {{ play_stats() }},
    count(distinct track_key) as tracks,
    {{ current_batch_at() }} as batch_at
from plays
{% if is_incremental() %}
where artist_key in (select artist_key from touched)
{% endif %}
group by artist_key
