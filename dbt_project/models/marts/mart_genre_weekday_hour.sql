-- Weighted streams per listener x genre x ISO weekday x local hour, all 168 cells of every genre it streamed.
with counted as (
    select plays.listener, genres.tag_key, plays.iso_weekday, plays.local_hour, sum(genres.weight) as streams
    from {{ ref('fct_plays') }} as plays
    inner join {{ ref('bridge_track_tag') }} as genres
        on genres.listener = plays.listener and genres.track_key = plays.track_key and genres.tag_type = 'genre'
    where plays.is_stream
    group by all
),

cells as (
    select tags.listener, tags.tag_key, tags.tag_name, cast(weekday.range as integer) as iso_weekday,
           cast(hour.range as integer) as local_hour
    from {{ ref('dim_tag') }} as tags cross join range(1, 8) as weekday cross join range(0, 24) as hour
    where tags.tag_type = 'genre' and (tags.listener, tags.tag_key) in (select listener, tag_key from counted)
)

select cells.listener, cells.tag_key, cells.tag_name, cells.iso_weekday, cells.local_hour,
       coalesce(counted.streams, 0) as streams
from cells
left join counted using (listener, tag_key, iso_weekday, local_hour)
