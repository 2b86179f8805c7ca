-- Display names (section 5): for each artist, track and album key, the spelling seen most often
-- across plays; ties go to the spelling seen most recently.
with spellings as (
    select 'artist' as entity, artist_key as entity_key, artist_name as spelling, played_at_utc from {{ ref('int_plays_deduplicated') }}
    union all
    select 'track', track_key, track_name, played_at_utc from {{ ref('int_plays_deduplicated') }}
    union all
    select 'album', album_key, album_name, played_at_utc from {{ ref('int_plays_deduplicated') }} where album_key is not null
),

counted as (
    select entity, entity_key, spelling, count(*) as times_seen, max(played_at_utc) as last_seen_at
    from spellings
    group by all
)

select entity, entity_key, spelling as display_name, times_seen
from counted
qualify row_number() over (partition by entity, entity_key order by times_seen desc, last_seen_at desc, spelling) = 1
