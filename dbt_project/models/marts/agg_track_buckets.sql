-- Pre-counted track stats per year, month and day (local dates); day rows carry streams per hour.
-- Month and year rows are sums of day rows, so the levels agree by construction (and are tested).
with day_buckets as (
    select
        'day' as bucket_grain,
        local_date as bucket_start,
        track_key,
        count_if(is_stream) as streams,
        sum(ms_played) as ms_played,
        count(*) as plays_all,
        count_if(skipped) as skips,
        {{ hourly_counts('local_hour', 'is_stream') }} as hourly_streams
    from {{ ref('fct_plays') }}
    group by local_date, track_key
)

select * from day_buckets

union all

select
    'month' as bucket_grain,
    cast(date_trunc('month', bucket_start) as date) as bucket_start,
    track_key,
    sum(streams) as streams,
    sum(ms_played) as ms_played,
    sum(plays_all) as plays_all,
    sum(skips) as skips,
    null as hourly_streams
from day_buckets
group by all

union all

select
    'year' as bucket_grain,
    cast(date_trunc('year', bucket_start) as date) as bucket_start,
    track_key,
    sum(streams) as streams,
    sum(ms_played) as ms_played,
    sum(plays_all) as plays_all,
    sum(skips) as skips,
    null as hourly_streams
from day_buckets
group by all
