-- Artist x tag with weights normalised per artist and tag type (genre weights of an artist sum to 1).
select
    artist_key,
    tag_key,
    tag_type,
    weight,
    lastfm_weight,
    lastfm_rank
from {{ ref('int_tags_classified') }}
where entity = 'artist' and tag_type != 'noise'
