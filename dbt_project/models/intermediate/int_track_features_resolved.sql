-- Audio features per track of each listener's history (counting rules, section 11). ReccoBeats' features of one of the track's
-- Spotify ids come first; else a catalog file's row meets the track by Spotify id, else by ISRC (the play's or the
-- catalog lookup's), else by the identity key of its names. The first level that meets wins, then the most recently
-- read source, then the file's earliest row (for ReccoBeats, the smallest id).
-- loaded_at: when that row was read (dim_track and fct_plays take in the tracks whose features arrived since).
with track_ids as (
    select distinct
        plays.listener,
        plays.track_key,
        split_part(plays.track_uri, ':', 3) as track_id,
        coalesce(plays.isrc, catalog.isrc) as isrc
    from {{ ref('int_plays_localized') }} as plays
    left join {{ ref('stg_spotify_api__catalog_tracks') }} as catalog
        on catalog.track_uri = plays.track_uri and catalog.is_found
),

catalog_rows as (
    select * from {{ ref('stg_catalog_file__tracks') }}
),

reccobeats as (
    select
        ids.listener,
        ids.track_key,
        0 as match_level,
        'reccobeats' as features_source,
        features.spotify_id as file_hash,
        cast(0 as bigint) as row_index,
        features.danceability, features.energy, features.valence, features.tempo, features.acousticness,
        features.instrumentalness, features.speechiness, features.liveness, features.loudness,
        features.loaded_at
    from (select distinct listener, track_key, track_id from track_ids where track_id <> '') as ids
    inner join {{ ref('stg_reccobeats__audio_features') }} as features on features.spotify_id = ids.track_id
),

matches as (
    select ids.listener, ids.track_key, 1 as match_level, catalog_rows.*
    from (select distinct listener, track_key, track_id from track_ids where track_id <> '') as ids
    inner join catalog_rows on catalog_rows.track_id = ids.track_id
    union all
    select ids.listener, ids.track_key, 2 as match_level, catalog_rows.*
    from (select distinct listener, track_key, isrc from track_ids where isrc is not null) as ids
    inner join catalog_rows on catalog_rows.isrc = ids.isrc
    union all
    select listeners_tracks.listener, catalog_rows.catalog_track_key as track_key, 3 as match_level, catalog_rows.*
    from catalog_rows
    inner join (select distinct listener, track_key from track_ids) as listeners_tracks
        on listeners_tracks.track_key = catalog_rows.catalog_track_key
),

candidates as (
    select
        listener, track_key, match_level, 'catalog_file' as features_source, file_hash, row_index, danceability, energy, valence,
        tempo, acousticness, instrumentalness, speechiness, liveness, loudness, loaded_at
    from matches
    union all
    select * from reccobeats
)

select
    listener,
    track_key,
    danceability,
    energy,
    valence,
    tempo,
    acousticness,
    instrumentalness,
    speechiness,
    liveness,
    loudness,
    features_source,
    case match_level when 0 then 'reccobeats' when 1 then 'spotify_id' when 2 then 'isrc' else 'names' end
        as matched_by,
    file_hash,
    row_index,
    loaded_at
from candidates
qualify row_number() over (partition by listener, track_key order by match_level, loaded_at desc, file_hash, row_index) = 1
