-- One row per track key (artist + track name): album and single releases of a song are one track.
select
    track_key,
    any_value(artist_key) as artist_key,
    any_value(track_name) as track_name,
    any_value(artist_name) as artist_name,
    mode(album_name) as album_name,
    list(distinct track_uri order by track_uri) filter (where track_uri is not null) as track_uris,
    max(recording_key) as recording_key,
    min(played_at_utc) filter (where is_stream) as first_stream_at_utc,
    max(played_at_utc) filter (where is_stream) as last_stream_at_utc,
    min(played_at_utc) as first_played_at_utc,
    max(played_at_utc) as last_played_at_utc,
    count_if(is_stream) as streams,
    count(*) as plays_all,
    count_if(skipped) as skips,
    sum(ms_played) as ms_played
from {{ ref('fct_plays') }}
group by track_key
