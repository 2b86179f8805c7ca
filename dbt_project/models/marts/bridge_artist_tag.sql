-- Artist x tag with weights normalised per artist and tag type (genre weights of an artist sum to 1), for each
-- listener's artists (the tags are Last.fm's, asked once for everybody).
select
    artists.listener,
    tags.artist_key,
    tags.tag_key,
    tags.tag_type,
    tags.weight,
    tags.lastfm_weight,
    tags.lastfm_rank
from {{ ref('int_tags_classified') }} as tags
inner join {{ ref('dim_artist') }} as artists on artists.artist_key = tags.artist_key
where tags.entity = 'artist' and tags.tag_type != 'noise'
