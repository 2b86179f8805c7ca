-- Discovery per local month (counting rules, section 9): the artists and tracks first streamed in the month, and
-- the month's streams split into discovering (an artist's streams within 30 days of their first stream) and
-- returning (the rest). One row per month with a music play; `month` is its first date.
with artist_days as (
    select buckets.listener, buckets.bucket_start as local_date, buckets.streams, artists.first_stream_date
    from {{ ref('agg_artist_buckets') }} as buckets
    inner join {{ ref('dim_artist') }} as artists using (listener, artist_key)
    where buckets.bucket_grain = 'day'
)

, months as (
    select
        listener,
        cast(date_trunc('month', local_date) as date) as month,
        cast(sum(streams) as bigint) as streams,
        cast(coalesce(sum(streams) filter (where local_date - first_stream_date <= 30), 0) as bigint)
            as streams_discovering
    from artist_days
    group by 1, 2
)

, new_artists as (
    select listener, cast(date_trunc('month', first_stream_date) as date) as month,
           cast(count(*) as bigint) as new_artists
    from {{ ref('dim_artist') }}
    where first_stream_date is not null
    group by 1, 2
)

, new_tracks as (
    select listener, cast(date_trunc('month', first_stream_date) as date) as month,
           cast(count(*) as bigint) as new_tracks
    from {{ ref('dim_track') }}
    where first_stream_date is not null
    group by 1, 2
)

select
    months.listener,
    months.month,
    coalesce(new_artists.new_artists, 0) as new_artists,
    coalesce(new_tracks.new_tracks, 0) as new_tracks,
    months.streams,
    months.streams_discovering,
    months.streams - months.streams_discovering as streams_returning
from months
left join new_artists using (listener, month)
left join new_tracks using (listener, month)
order by months.listener, months.month
