-- What each listener has never streamed, with audio features (counting rules, section 11): the catalog files' tracks
-- whose Spotify id is no URI of a track the listener streamed and whose names' key is no track it streamed, one row
-- per listener and key (the row read last wins, then the file's earliest). What recommendations() draws from.
with streamed as (
    select listener, track_key, track_uris from {{ ref('dim_track') }} where streams > 0
),

streamed_ids as (
    select distinct listener, split_part(unnest(track_uris), ':', 3) as track_id from streamed
),

catalog as (
    select *
    from {{ ref('stg_catalog_file__tracks') }}
    where valence is not null and energy is not null and acousticness is not null and danceability is not null
    qualify row_number() over (partition by catalog_track_key order by loaded_at desc, file_hash, row_index) = 1
)

select
    listeners.listener,
    catalog.catalog_track_key as candidate_key,
    catalog.track_id,
    catalog.track_name,
    catalog.artist_name,
    catalog.valence,
    catalog.energy,
    catalog.acousticness,
    catalog.danceability,
    catalog.tempo
from catalog
cross join {{ ref('stg_installation__listeners') }} as listeners
where (listeners.listener, catalog.catalog_track_key) not in (select listener, track_key from streamed)
  and (listeners.listener, coalesce(catalog.track_id, '')) not in (select listener, track_id from streamed_ids)
