-- Mood by ISO weekday x local hour (counting rules, section 11): all 168 cells, zeros included. Means are over streams
-- of tracks with features (stream-weighted), beside the coverage they rest on.
with cells as (
    select listeners.listener, weekday.iso_weekday, hour.local_hour
    from {{ ref('stg_installation__listeners') }} as listeners,
        range(1, 8) as weekday(iso_weekday), range(0, 24) as hour(local_hour)
),

streams as (
    select plays.listener, plays.iso_weekday, plays.local_hour, plays.mood, tracks.valence, tracks.energy,
           tracks.danceability
    from {{ ref('fct_plays') }} as plays
    left join {{ ref('dim_track') }} as tracks on tracks.listener = plays.listener and tracks.track_key = plays.track_key
    where plays.is_stream
)

select
    cells.listener,
    cast(cells.iso_weekday as integer) as iso_weekday,
    cast(cells.local_hour as integer) as local_hour,
    {{ mood_figures('streams', 'local_hour') }}
from cells
left join streams
    on streams.listener = cells.listener and streams.iso_weekday = cells.iso_weekday
    and streams.local_hour = cells.local_hour
group by cells.listener, cells.iso_weekday, cells.local_hour
