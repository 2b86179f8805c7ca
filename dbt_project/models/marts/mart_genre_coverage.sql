-- How much of each month's listening has a genre at all (its track's or its artist's Last.fm tags).
with genred as (
    select plays.local_date, plays.track_key
    from {{ ref('fct_plays') }} as plays
    where plays.is_stream
      and plays.track_key in (select track_key from {{ ref('bridge_track_tag') }} where tag_type = 'genre')
),

monthly as (
    select cast(date_trunc('month', local_date) as date) as month_start, count(*) as streams_with_genre
    from genred
    group by all
),

totals as (
    select cast(date_trunc('month', local_date) as date) as month_start, sum(streams) as streams
    from {{ ref('agg_daily_streams') }}
    group by all
)

select
    cast(year(totals.month_start) as integer) as year,
    cast(month(totals.month_start) as integer) as month,
    cast(totals.streams as bigint) as streams,
    cast(coalesce(monthly.streams_with_genre, 0) as bigint) as streams_with_genre,
    coalesce(monthly.streams_with_genre, 0) / nullif(totals.streams, 0) as share_with_genre
from totals
left join monthly using (month_start)
