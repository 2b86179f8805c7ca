-- What my friends played this week (counting rules, section 12): for each listener who opted in to sharing, the ten
-- most streamed tracks of each friend who opted in too, over the friend's last 7 local dates up to the day of the
-- build (in the friend's zone). Ranks as top_tracks ranks (section 7).
with sharing as (
    select listener, listener_timezone from {{ ref('stg_installation__listeners') }} where share_with_friends
),

friends_streams as (
    select plays.listener as friend, plays.track_key, any_value(plays.track_name) as track_name,
           any_value(plays.artist_name) as artist_name, cast(count(*) as bigint) as streams
    from {{ ref('fct_plays') }} as plays
    inner join sharing on sharing.listener = plays.listener
    where plays.is_stream
      -- the friend's today, in its zone, and the 6 dates before it
      and plays.local_date between cast(timezone(sharing.listener_timezone, current_timestamp) as date) - 6
                               and cast(timezone(sharing.listener_timezone, current_timestamp) as date)
    group by plays.listener, plays.track_key
),

ranked as (
    select *, row_number() over (partition by friend order by streams desc, encode(track_name), encode(artist_name))
        as friend_rank
    from friends_streams
)

select mine.listener, ranked.friend, ranked.friend_rank, ranked.track_name, ranked.artist_name, ranked.streams
from sharing as mine
inner join ranked on ranked.friend <> mine.listener
where ranked.friend_rank <= 10
order by mine.listener, ranked.friend, ranked.friend_rank
