-- Weekday against weekend (local Saturday and Sunday): each artist's and each genre's share of the streams of
-- weekdays and of weekends, all time. One row per artist or genre with a stream; genre streams are weighted as in
-- top_genres (a track with several genres counts in part), so genre shares are of the streams that have a genre.
with artist_days as (
    select
        buckets.listener,
        'artist' as dimension,
        buckets.artist_key as key,
        isodow(buckets.bucket_start) >= 6 as is_weekend,
        cast(buckets.streams as double) as streams
    from {{ ref('agg_artist_buckets') }} as buckets
    where buckets.bucket_grain = 'day' and buckets.streams > 0
)

, genre_days as (
    select listener, 'genre' as dimension, tag_key as key, isodow(local_date) >= 6 as is_weekend, streams
    from {{ ref('agg_genre_daily') }}
    where streams > 0
)

, streams as (
    select
        listener,
        dimension,
        key,
        coalesce(sum(streams) filter (where not is_weekend), 0) as weekday_streams,
        coalesce(sum(streams) filter (where is_weekend), 0) as weekend_streams
    from (select * from artist_days union all select * from genre_days)
    group by listener, dimension, key
)

, totals as (
    select listener, dimension, sum(weekday_streams) as all_weekday_streams,
           sum(weekend_streams) as all_weekend_streams
    from streams
    group by listener, dimension
)

select
    streams.listener,
    streams.dimension,
    streams.key,
    coalesce(artists.artist_name, tags.tag_name) as name,
    streams.weekday_streams,
    streams.weekend_streams,
    streams.weekday_streams / nullif(totals.all_weekday_streams, 0) as weekday_share,
    streams.weekend_streams / nullif(totals.all_weekend_streams, 0) as weekend_share
from streams
inner join totals using (listener, dimension)
left join {{ ref('dim_artist') }} as artists
    on streams.dimension = 'artist' and artists.listener = streams.listener and artists.artist_key = streams.key
left join {{ ref('dim_tag') }} as tags
    on streams.dimension = 'genre' and tags.listener = streams.listener and tags.tag_key = streams.key
