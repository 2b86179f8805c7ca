-- Artists a friend loves that you have never streamed (counting rules, section 12): for each listener who opted in to
-- sharing, each opted-in friend's 20 most streamed artists of all time that the listener has no stream of, in the
-- friend's order.
with sharing as (
    select listener from {{ ref('stg_installation__listeners') }} where share_with_friends
),

loved as (
    select artists.listener as friend, artists.artist_key, artists.artist_name, artists.streams,
           row_number() over (partition by artists.listener order by artists.streams desc, encode(artists.artist_name))
               as friend_rank
    from {{ ref('dim_artist') }} as artists
    where artists.streams > 0 and artists.listener in (select listener from sharing)
    qualify friend_rank <= 20
)

select mine.listener, loved.friend, loved.friend_rank, loved.artist_key, loved.artist_name,
       loved.streams as friend_streams
from sharing as mine
inner join loved on loved.friend <> mine.listener
where not exists (
    select 1 from {{ ref('dim_artist') }} as own
    where own.listener = mine.listener and own.artist_key = loved.artist_key and own.streams > 0
)
order by mine.listener, loved.friend, loved.friend_rank
