-- Each genre's share of a month's streams (weighted), for every month with streams.
with monthly as (
    select cast(date_trunc('month', local_date) as date) as month_start, tag_key, sum(streams) as streams
    from {{ ref('agg_genre_daily') }}
    group by all
),

totals as (
    select cast(date_trunc('month', local_date) as date) as month_start, sum(streams) as streams
    from {{ ref('agg_daily_streams') }}
    group by all
)

select
    cast(year(monthly.month_start) as integer) as year,
    cast(month(monthly.month_start) as integer) as month,
    monthly.tag_key,
    tags.tag_name,
    monthly.streams,
    monthly.streams / totals.streams as share_of_streams
from monthly
inner join totals using (month_start)
inner join {{ ref('dim_tag') }} as tags using (tag_key)
