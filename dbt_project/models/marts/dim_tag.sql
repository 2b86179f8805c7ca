-- One row per canonical Last.fm tag, with its facet and how widely it is used.
select
    classified.tag_key,
    any_value(names.tag_name) as tag_name,
    -- A tag is noise or a facet wherever it appears, except the artist-name rule, which is per item.
    case when count_if(classified.tag_type = 'genre') > 0 then 'genre' else any_value(classified.tag_type) end as tag_type,
    count(distinct classified.entity_key) filter (where classified.entity = 'artist') as artists,
    count(distinct classified.entity_key) filter (where classified.entity = 'track') as tracks
from {{ ref('int_tags_classified') }} as classified
inner join {{ ref('int_tag_spellings_ranked') }} as names on names.tag_key = classified.tag_key
group by classified.tag_key
