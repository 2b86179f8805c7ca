-- How much of each month's listening has a genre at all (its track's or its artist's Last.fm tags).
with genred as (
    select plays.listener, plays.local_date, plays.track_key
    from {{ ref('fct_plays') }} as plays
    where plays.is_stream
      and (plays.listener, plays.track_key) in
          (select listener, track_key from {{ ref('bridge_track_tag') }} where tag_type = 'genre')
),

monthly as (
    select listener, cast(year(local_date) as integer) as year, cast(month(local_date) as integer) as month,
           count(*) as streams_with_genre
    from genred
    group by all
)

select
    totals.listener,
    totals.year,
    totals.month,
    totals.streams,
    cast(coalesce(monthly.streams_with_genre, 0) as bigint) as streams_with_genre,
    coalesce(monthly.streams_with_genre, 0) / nullif(totals.streams, 0) as share_with_genre
from {{ ref('mart_heatmap_year_month') }} as totals
left join monthly using (listener, year, month)
