-- Streams per year x month, every month from the first play's to the last's, zeros included.
with months as (
    select cast(date_trunc('month', local_date) as date) as month_start, sum(streams) as streams
    from {{ ref('dim_date') }}
    group by all
)

select
    year(month_start) as year,
    month(month_start) as month,
    streams
from months
order by year, month
