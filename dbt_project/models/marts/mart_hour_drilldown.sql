-- Which tracks filled a local hour of a local date: one row per date x hour x track with a stream.
select
    local_date,
    local_hour,
    track_key,
    any_value(track_name) as track_name,
    any_value(artist_name) as artist_name,
    count_if(is_stream) as streams,
    sum(ms_played) as ms_played
from {{ ref('fct_plays') }}
group by local_date, local_hour, track_key
having count_if(is_stream) > 0
