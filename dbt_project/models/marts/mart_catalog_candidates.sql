-- What you have never streamed, with audio features (counting rules, section 11): the catalog files' tracks whose
-- Spotify id is no URI of a track you streamed and whose names' key is no track you streamed, one row per key (the
-- row read last wins, then the file's earliest). What recommendations() draws from.
with streamed as (
    select track_key, track_uris from {{ ref('dim_track') }} where streams > 0
),

streamed_ids as (
    select distinct split_part(unnest(track_uris), ':', 3) as track_id from streamed
)

select
    catalog_track_key as candidate_key,
    track_id,
    track_name,
    artist_name,
    valence,
    energy,
    acousticness,
    danceability,
    tempo
from {{ ref('stg_catalog_file__tracks') }}
where valence is not null and energy is not null and acousticness is not null and danceability is not null
  and catalog_track_key not in (select track_key from streamed)
  and coalesce(track_id, '') not in (select track_id from streamed_ids)
qualify row_number() over (partition by catalog_track_key order by loaded_at desc, file_hash, row_index) = 1
