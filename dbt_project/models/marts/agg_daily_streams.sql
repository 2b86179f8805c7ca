-- One row per local date with music plays: streams, and streams per local hour.
select
    local_date,
    any_value(iso_weekday) as iso_weekday,
    count_if(is_stream) as streams,
    {{ hourly_counts('local_hour', 'is_stream') }} as hourly_streams,
    count(*) as plays_all,
    count_if(skipped) as skips,
    sum(ms_played) as ms_played
from {{ ref('fct_plays') }}
group by local_date
