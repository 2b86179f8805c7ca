-- Every Last.fm tag on an artist or a track, cleaned by these rules:
-- - canonical spelling: NFC, lower case, hyphens/underscores/slashes as spaces, spaces collapsed
--   (hip-hop, Hip Hop and hip_hop are one tag);
-- - tag_type: 'noise' (the noise list, "under N listeners", the artist's own name), 'decade' (80s, 1990s),
--   'nationality' (the nationality list), otherwise 'genre';
-- - weight: the item's Last.fm counts normalised to sum to 1 within each tag type (equal shares when
--   Last.fm gives all zeros), after merging spellings of one tag.
with raw_tags as (
    select
        'artist' as entity,
        artists.artist_key as entity_key,
        artists.artist_key,
        tag.name as spelling,
        tag.weight as lastfm_weight,
        tag.rank as lastfm_rank
    from {{ ref('stg_lastfm__artists') }} as artists,
        unnest(from_json(artists.tags_json, '[{"name": "VARCHAR", "weight": "BIGINT", "rank": "BIGINT"}]')) as tags(tag)
    where artists.is_found

    union all

    select
        'track',
        tracks.track_key,
        split_part(tracks.track_key, chr(31), 1),
        tag.name,
        tag.weight,
        tag.rank
    from {{ ref('stg_lastfm__tracks') }} as tracks,
        unnest(from_json(tracks.tags_json, '[{"name": "VARCHAR", "weight": "BIGINT", "rank": "BIGINT"}]')) as tags(tag)
    where tracks.is_found
),

canonical as (
    select
        *,
        {{ canonical_tag('spelling') }} as tag_key
    from raw_tags
),

classified as (
    select
        *,
        case
            when tag_key in (select tag_key from {{ ref('lastfm_noise_tags') }}) then 'noise'
            when regexp_matches(tag_key, '^under [0-9,]+ listeners$') then 'noise'
            when normalize_name(spelling) = artist_key then 'noise'
            when regexp_matches(tag_key, '^([0-9]{2}|[0-9]{4})s$') then 'decade'
            when tag_key in (select tag_key from {{ ref('lastfm_nationality_tags') }}) then 'nationality'
            else 'genre'
        end as tag_type
    from canonical
    where tag_key != ''
),

merged as (
    select entity, entity_key, artist_key, tag_key, tag_type,
           sum(coalesce(lastfm_weight, 0)) as lastfm_weight, min(lastfm_rank) as lastfm_rank
    from classified
    group by all
)

select
    *,
    case
        when sum(lastfm_weight) over per_type > 0 then lastfm_weight / sum(lastfm_weight) over per_type
        else 1.0 / count(*) over per_type
    end as weight
from merged
window per_type as (partition by entity, entity_key, tag_type)
