-- Track x tag for every track, weights normalised per track and tag type. A track with no tags of a
-- type on Last.fm (or unknown to it) inherits its artist's tags of that type (is_inherited).
with own as (
    select entity_key as track_key, tag_key, tag_type, weight, lastfm_weight, false as is_inherited
    from {{ ref('int_tags_classified') }}
    where entity = 'track' and tag_type != 'noise'
),

inherited as (
    select tracks.track_key, artist_tags.tag_key, artist_tags.tag_type, artist_tags.weight,
           artist_tags.lastfm_weight, true as is_inherited
    from {{ ref('dim_track') }} as tracks
    inner join {{ ref('bridge_artist_tag') }} as artist_tags on artist_tags.artist_key = tracks.artist_key
    where not exists (
        select 1 from own where own.track_key = tracks.track_key and own.tag_type = artist_tags.tag_type
    )
)

select * from own
union all
select * from inherited
