{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'entity', 'entity_key']) }}

-- Display names (docs/counting-rules.md, section 5): for each artist, track and album key, the spelling seen most often
-- across the listener's plays; ties go to the spelling seen most recently. Incremental: only keys with plays on the
-- days recomputed since the last run are ranked again.
-- `not materialized`: DuckDB would otherwise copy every play into a scratch table before an incremental run's
-- touched keys narrow them down (at a million plays that copy was most of the model's time).
with plays as not materialized (
    select * from {{ ref('int_plays_deduplicated') }}
),

{% if is_incremental() %}
touched as (
    select distinct listener, entity, entity_key
    from (
        select listener, 'artist' as entity, artist_key as entity_key from plays where batch_at > {{ last_batch_at() }}
        union all
        select listener, 'track', track_key from plays where batch_at > {{ last_batch_at() }}
        union all
        select listener, 'album', album_key from plays where batch_at > {{ last_batch_at() }} and album_key is not null
    )
),
{% endif %}

spellings as (
    select listener, 'artist' as entity, artist_key as entity_key, artist_name as spelling, played_at_utc from plays
    union all
    select listener, 'track', track_key, track_name, played_at_utc from plays
    union all
    select listener, 'album', album_key, album_name, played_at_utc from plays where album_key is not null
),

counted as (
    select spellings.listener, spellings.entity, spellings.entity_key, spellings.spelling, count(*) as times_seen,
           max(spellings.played_at_utc) as last_seen_at
    from spellings
    {% if is_incremental() %}
    inner join touched
        on touched.listener = spellings.listener
        and touched.entity = spellings.entity
        and touched.entity_key = spellings.entity_key
    {% endif %}
    group by all
)

select listener, entity, entity_key, spelling as display_name, times_seen, {{ current_batch_at() }} as batch_at
from counted
qualify row_number() over (partition by listener, entity, entity_key order by times_seen desc, last_seen_at desc, spelling) = 1
