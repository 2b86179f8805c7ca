-- The display name of each canonical tag: its spelling seen on the most artists and tracks (ties:
-- the spelling that sorts first).
with spellings as (
    select
        {{ canonical_tag('tag.name') }} as tag_key,
        tag.name as spelling
    from (
        select tags_json from {{ ref('stg_lastfm__artists') }} where is_found
        union all
        select tags_json from {{ ref('stg_lastfm__tracks') }} where is_found
    ) as answers,
        unnest(from_json(answers.tags_json, '[{"name": "VARCHAR", "weight": "BIGINT", "rank": "BIGINT"}]')) as tags(tag)
)

select tag_key, spelling as tag_name, count(*) as times_seen
from spellings
where tag_key != ''
group by tag_key, spelling
qualify row_number() over (partition by tag_key order by count(*) desc, spelling) = 1
