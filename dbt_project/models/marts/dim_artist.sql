-- One row per primary artist key.
select
    artist_key,
    any_value(artist_name) as artist_name,
    min(played_at_utc) filter (where is_stream) as first_stream_at_utc,
    max(played_at_utc) filter (where is_stream) as last_stream_at_utc,
    min(played_at_utc) as first_played_at_utc,
    max(played_at_utc) as last_played_at_utc,
    count_if(is_stream) as streams,
    count(*) as plays_all,
    count_if(skipped) as skips,
    sum(ms_played) as ms_played,
    count(distinct track_key) as tracks
from {{ ref('fct_plays') }}
group by artist_key
