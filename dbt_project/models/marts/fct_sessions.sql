{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'session_id'],
    post_hook=[
        "{{ remove_vanished_sessions() }}",
    ],
) }}

-- One row per listening session (counting rules, section 9): music plays no more than `session_gap_minutes`
-- apart, as fct_plays.session_id assigns them. Incremental: the sessions of the plays fct_plays wrote or moved to
-- another session since this model last ran.
with plays as not materialized (
    select * from {{ ref('fct_plays') }}
)

{% if is_incremental() %}
, touched as (
    select distinct listener, session_id from plays where batch_at > {{ last_batch_at() }}
)
{% endif %}

, sessions as (
    select
        listener,
        session_id,
        -- the first play's start: the session's id is its first play's
        any_value(played_at_utc - to_milliseconds(ms_played)) filter (where play_id = session_id) as started_at_utc,
        max(played_at_utc) as ended_at_utc,
        cast(count(*) as bigint) as plays,
        cast(count_if(is_stream) as bigint) as streams,
        cast(sum(ms_played) as bigint) as ms_played,
        cast(count(distinct artist_key) as bigint) as distinct_artists,
        cast(count(*) filter (where is_skip) as bigint) as skips,
        cast(count(is_skip) as bigint) as plays_known
    from plays
    where session_id is not null
    {% if is_incremental() %}
      and (listener, session_id) in (select listener, session_id from touched)
    {% endif %}
    group by listener, session_id
)

select
    sessions.listener,
    session_id,
    started_at_utc,
    ended_at_utc,
    {{ to_local_time('started_at_utc') }} as started_at_local,
    {{ to_local_time('ended_at_utc') }} as ended_at_local,
    cast({{ to_local_time('started_at_utc') }} as date) as local_date,
    plays,
    streams,
    ms_played / 60000.0 as minutes,
    ms_played,
    distinct_artists,
    skips,
    plays_known,
    {{ current_batch_at() }} as batch_at
from sessions
inner join {{ ref('stg_installation__listeners') }} as listeners on listeners.listener = sessions.listener
