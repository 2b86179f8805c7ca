-- Listening modes (counting rules, section 11), one row per mode int_track_modes found: its centre (the stream-weighted
-- mean of its tracks' features), its tracks and streams, its top artists and its typical hours.
with streams as (
    select plays.listener, plays.mode_id, plays.track_key, plays.artist_name, plays.local_hour
    from {{ ref('fct_plays') }} as plays
    where plays.is_stream and plays.mode_id is not null
),

centres as (
    select
        streams.listener,
        streams.mode_id,
        avg(features.valence) as centre_valence,
        avg(features.energy) as centre_energy,
        avg(features.acousticness) as centre_acousticness,
        avg(features.danceability) as centre_danceability,
        cast(count(distinct streams.track_key) as bigint) as tracks,
        cast(count(*) as bigint) as streams
    from streams
    inner join {{ ref('int_track_features_resolved') }} as features
        on features.listener = streams.listener and features.track_key = streams.track_key
    group by streams.listener, streams.mode_id
),

artists as (
    select listener, mode_id, list(artist_name order by streams desc, encode(artist_name)) [1:3] as top_artists
    from (select listener, mode_id, artist_name, count(*) as streams from streams group by all)
    group by listener, mode_id
),

hours as (
    select listener, mode_id, list(local_hour order by streams desc, local_hour) [1:3] as typical_hours
    from (select listener, mode_id, local_hour, count(*) as streams from streams group by all)
    group by listener, mode_id
)

select
    centres.listener,
    centres.mode_id,
    centres.centre_valence,
    centres.centre_energy,
    centres.centre_acousticness,
    centres.centre_danceability,
    centres.tracks,
    centres.streams,
    artists.top_artists,
    hours.typical_hours,
    (select any_value(fit.silhouette) from {{ ref('int_track_modes') }} as fit
     where fit.listener = centres.listener) as silhouette
from centres
left join artists on artists.listener = centres.listener and artists.mode_id = centres.mode_id
left join hours on hours.listener = centres.listener and hours.mode_id = centres.mode_id
order by centres.listener, centres.mode_id
