-- Streams per year x month, every month from the first play's to the last's, zeros included.
with months as (
    select listener, cast(date_trunc('month', local_date) as date) as month_start, cast(sum(streams) as bigint) as streams
    from {{ ref('dim_date') }}
    group by all
)

select
    listener,
    cast(year(month_start) as integer) as year,
    cast(month(month_start) as integer) as month,
    streams
from months
order by listener, year, month
