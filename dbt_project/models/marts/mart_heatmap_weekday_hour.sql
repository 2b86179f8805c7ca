-- Streams per ISO weekday x local hour: always all 168 cells for each listener, zeros included.
-- Summed from the daily hour arrays (one row per day), never from the plays themselves.
with cells as (
    select listeners.listener, cast(weekday.range as integer) as iso_weekday, cast(hour.range as integer) as local_hour
    from {{ ref('stg_installation__listeners') }} as listeners
    cross join range(1, 8) as weekday cross join range(0, 24) as hour
),

counts as (
    select daily.listener, daily.iso_weekday, cast(hour.range as integer) as local_hour, sum(daily.hourly_streams[hour.range + 1]) as streams
    from {{ ref('agg_daily_streams') }} as daily cross join range(0, 24) as hour
    group by all
)

select cells.listener, cells.iso_weekday, cells.local_hour, cast(coalesce(counts.streams, 0) as bigint) as streams
from cells
left join counts using (listener, iso_weekday, local_hour)
order by cells.listener, cells.iso_weekday, cells.local_hour
