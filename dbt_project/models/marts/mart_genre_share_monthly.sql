-- Each genre's share of a month's streams (weighted), for every month with streams.
with monthly as (
    select listener, cast(year(local_date) as integer) as year, cast(month(local_date) as integer) as month, tag_key,
           sum(streams) as streams
    from {{ ref('agg_genre_daily') }}
    group by all
    having sum(streams) > 0
)

select
    monthly.listener,
    monthly.year,
    monthly.month,
    monthly.tag_key,
    tags.tag_name,
    monthly.streams,
    monthly.streams / totals.streams as share_of_streams
from monthly
inner join {{ ref('mart_heatmap_year_month') }} as totals using (listener, year, month)
inner join {{ ref('dim_tag') }} as tags using (listener, tag_key)
