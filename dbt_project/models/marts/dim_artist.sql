{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'artist_key'],
    post_hook=[
        "{{ refresh_display_names('artist', 'artist_key', 'artist_name') }}",
    ],
) }}

-- One row per listener and primary artist key.
-- Incremental: only keys with plays on the days fct_plays rewrote are aggregated again.
-- `not materialized`: DuckDB would otherwise copy every play into a scratch table before an incremental run's
-- touched keys narrow them down (at a million plays that copy was most of the model's time).
with plays as not materialized (
    select * from {{ ref('fct_plays') }}
)

{% if is_incremental() %}
, touched as (
    select distinct listener, artist_key from plays where batch_at > {{ last_batch_at() }}
)
{% endif %}

-- The artist's streaks (section 9): runs of consecutive local dates with a stream of theirs (gaps and islands).
, stream_days as (
    select distinct listener, artist_key, local_date
    from plays
    where is_stream
    {% if is_incremental() %}
      and (listener, artist_key) in (select listener, artist_key from touched)
    {% endif %}
)

, streaks as (
    select listener, artist_key, max(days) as longest_streak_days
    from (
        select listener, artist_key, count(*) as days
        from (
            select listener, artist_key,
                   local_date - cast(row_number() over (partition by listener, artist_key order by local_date) as integer)
                       as run
            from stream_days
        )
        group by listener, artist_key, run
    )
    group by listener, artist_key
)

, stats as (
    select
        listener,
        artist_key,
        {{ entity_id('artist_key') }} as artist_id,
        any_value(artist_name) as artist_name,
        {{ play_stats() }},
        count(distinct track_key) as tracks
    from plays
    {% if is_incremental() %}
    where (listener, artist_key) in (select listener, artist_key from touched)
    {% endif %}
    group by listener, artist_key
)

select
    stats.*,
    cast(coalesce(streaks.longest_streak_days, 0) as integer) as longest_streak_days,
    {{ current_batch_at() }} as batch_at
from stats
left join streaks using (listener, artist_key)
