-- Streams per ISO weekday x local hour: always all 168 cells, zeros included.
with cells as (
    select cast(weekday.range as integer) as iso_weekday, cast(hour.range as integer) as local_hour
    from range(1, 8) as weekday cross join range(0, 24) as hour
),

counts as (
    select iso_weekday, local_hour, count(*) as streams
    from {{ ref('fct_plays') }}
    where is_stream
    group by all
)

select cells.iso_weekday, cells.local_hour, coalesce(counts.streams, 0) as streams
from cells
left join counts using (iso_weekday, local_hour)
order by cells.iso_weekday, cells.local_hour
