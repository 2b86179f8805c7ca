-- One row per listener and local calendar day from its first play to its last (from the daily counts, not the plays).
with bounds as (
    select listener, min(local_date) as first_date, max(local_date) as last_date from {{ ref('agg_daily_streams') }}
    group by listener
),

days as (
    select listener, cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as local_date
    from bounds
)

select
    days.listener,
    days.local_date,
    cast(year(days.local_date) as integer) as year,
    cast(month(days.local_date) as integer) as month,
    cast(day(days.local_date) as integer) as day_of_month,
    cast(isoyear(days.local_date) as integer) as iso_year,
    cast(week(days.local_date) as integer) as iso_week,
    cast(isodow(days.local_date) as integer) as iso_weekday,
    dayname(days.local_date) as day_name,
    isodow(days.local_date) >= 6 as is_weekend,
    cast(coalesce(daily.streams, 0) as bigint) as streams
from days
left join {{ ref('agg_daily_streams') }} as daily on daily.listener = days.listener and daily.local_date = days.local_date
