-- Track x tag for every track of each listener, weights normalised per track and tag type. A track with no tags of
-- a type on Last.fm (or unknown to it) inherits its artist's tags of that type (is_inherited).
with own as (
    select tracks.listener, tags.entity_key as track_key, tags.tag_key, tags.tag_type, tags.weight,
           tags.lastfm_weight, false as is_inherited
    from {{ ref('int_tags_classified') }} as tags
    inner join {{ ref('dim_track') }} as tracks on tracks.track_key = tags.entity_key
    where tags.entity = 'track' and tags.tag_type != 'noise'
),

inherited as (
    select tracks.listener, tracks.track_key, artist_tags.tag_key, artist_tags.tag_type, artist_tags.weight,
           artist_tags.lastfm_weight, true as is_inherited
    from {{ ref('dim_track') }} as tracks
    inner join {{ ref('bridge_artist_tag') }} as artist_tags
        on artist_tags.listener = tracks.listener and artist_tags.artist_key = tracks.artist_key
    where not exists (
        select 1 from own
        where own.listener = tracks.listener and own.track_key = tracks.track_key
          and own.tag_type = artist_tags.tag_type
    )
)

select * from own
union all
select * from inherited
