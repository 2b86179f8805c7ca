-- Taste overlap between listeners who both opted in to sharing (counting rules, section 12): one row per listener and
-- friend. An overlap is the sum over artists (or genres) of the smaller of the two listeners' shares of their own
-- streams: 1 for the same listening spread the same way, 0 for nothing in common. Nothing of a listener who has not
-- opted in appears here, for it or for anyone.
with sharing as (
    select listener from {{ ref('stg_installation__listeners') }} where share_with_friends
),

artist_shares as (
    select artists.listener, artists.artist_key, artists.artist_name, artists.streams,
           artists.streams / sum(artists.streams) over (partition by artists.listener) as share
    from {{ ref('dim_artist') }} as artists
    where artists.streams > 0 and artists.listener in (select listener from sharing)
),

genre_shares as (
    select genres.listener, genres.tag_key, sum(genres.streams) as streams,
           sum(genres.streams) / sum(sum(genres.streams)) over (partition by genres.listener) as share
    from {{ ref('agg_genre_daily') }} as genres
    where genres.streams > 0 and genres.listener in (select listener from sharing)
    group by genres.listener, genres.tag_key
),

pairs as (
    select mine.listener, theirs.listener as friend
    from sharing as mine cross join sharing as theirs
    where mine.listener <> theirs.listener
),

artist_overlap as (
    select mine.listener, theirs.listener as friend,
           sum(least(mine.share, theirs.share)) as artist_overlap,
           cast(count(*) as bigint) as shared_artists,
           list(mine.artist_name order by least(mine.share, theirs.share) desc, encode(mine.artist_name))[1:5]
               as top_shared_artists
    from artist_shares as mine
    inner join artist_shares as theirs
        on theirs.artist_key = mine.artist_key and theirs.listener <> mine.listener
    group by mine.listener, theirs.listener
),

genre_overlap as (
    select mine.listener, theirs.listener as friend, sum(least(mine.share, theirs.share)) as genre_overlap
    from genre_shares as mine
    inner join genre_shares as theirs on theirs.tag_key = mine.tag_key and theirs.listener <> mine.listener
    group by mine.listener, theirs.listener
)

select
    pairs.listener,
    pairs.friend,
    coalesce(artist_overlap.artist_overlap, 0.0) as artist_overlap,
    coalesce(genre_overlap.genre_overlap, 0.0) as genre_overlap,
    coalesce(artist_overlap.shared_artists, 0) as shared_artists,
    coalesce(artist_overlap.top_shared_artists, cast([] as varchar[])) as top_shared_artists
from pairs
left join artist_overlap using (listener, friend)
left join genre_overlap using (listener, friend)
order by pairs.listener, pairs.friend
