-- One row per listener and canonical Last.fm tag on its artists or tracks, with its facet and how widely the
-- listener's artists and tracks carry it.
with used as (
    select artists.listener, classified.*
    from {{ ref('int_tags_classified') }} as classified
    inner join {{ ref('dim_artist') }} as artists on artists.artist_key = classified.entity_key
    where classified.entity = 'artist'
    union all
    select tracks.listener, classified.*
    from {{ ref('int_tags_classified') }} as classified
    inner join {{ ref('dim_track') }} as tracks on tracks.track_key = classified.entity_key
    where classified.entity = 'track'
)

select
    used.listener,
    used.tag_key,
    any_value(names.tag_name) as tag_name,
    -- A tag is noise or a facet wherever it appears, except the artist-name rule, which is per item.
    case when count_if(used.tag_type = 'genre') > 0 then 'genre' else any_value(used.tag_type) end as tag_type,
    count(distinct used.entity_key) filter (where used.entity = 'artist') as artists,
    count(distinct used.entity_key) filter (where used.entity = 'track') as tracks
from used
inner join {{ ref('int_tag_spellings_ranked') }} as names on names.tag_key = used.tag_key
group by used.listener, used.tag_key
