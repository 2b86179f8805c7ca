-- Mood by local month (counting rules, section 11), one row per month with a stream: stream-weighted means over the
-- streams of tracks with features, beside the coverage they rest on.
with streams as (
    select plays.listener, cast(date_trunc('month', plays.local_date) as date) as month, plays.mood, tracks.valence,
           tracks.energy, tracks.danceability, plays.local_date
    from {{ ref('fct_plays') }} as plays
    left join {{ ref('dim_track') }} as tracks on tracks.listener = plays.listener and tracks.track_key = plays.track_key
    where plays.is_stream
)

select
    listener,
    month,
    {{ mood_figures('streams', 'local_date') }}
from streams
group by listener, month
