-- Streams and milliseconds played per local date and genre, each play split across its track's genres by weight
-- (so a day's genre streams sum to its streams that have a genre). The buckets top_genres() reads; a genre's day
-- with plays but no stream has a row too (its minutes count, section 9).
select
    buckets.listener,
    buckets.bucket_start as local_date,
    genres.tag_key,
    sum(buckets.streams * genres.weight) as streams,
    sum(buckets.ms_played * genres.weight) as ms_played
from {{ ref('agg_track_buckets') }} as buckets
inner join {{ ref('bridge_track_tag') }} as genres
    on genres.listener = buckets.listener and genres.track_key = buckets.track_key and genres.tag_type = 'genre'
where buckets.bucket_grain = 'day'
group by all
