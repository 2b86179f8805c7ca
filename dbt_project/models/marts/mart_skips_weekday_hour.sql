-- Skips per ISO weekday x local hour beside their denominator (plays whose skip is known): always all 168 cells,
-- zeros included, for each listener (counting rules, section 9).
with cells as (
    select listeners.listener, cast(weekday.range as integer) as iso_weekday, cast(hour.range as integer) as local_hour
    from {{ ref('stg_installation__listeners') }} as listeners
    cross join range(1, 8) as weekday cross join range(0, 24) as hour
),

counts as (
    select listener, iso_weekday, local_hour, count(is_skip) as plays_known, count(*) filter (where is_skip) as skips
    from {{ ref('fct_plays') }}
    where is_skip is not null
    group by all
)

select
    cells.listener,
    cells.iso_weekday,
    cells.local_hour,
    cast(coalesce(counts.plays_known, 0) as bigint) as plays_known,
    cast(coalesce(counts.skips, 0) as bigint) as skips
from cells
left join counts using (listener, iso_weekday, local_hour)
order by cells.listener, cells.iso_weekday, cells.local_hour
