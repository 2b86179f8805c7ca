-- Why you play what you play (counting rules, section 11): the Pearson correlation, over the tracks with features, of
-- each audio feature with how often a track is streamed, with its skip rate (§9, over its plays whose skip is known)
-- and with its completion (§9, the mean over its plays with one), all day and per part of the day (local hours
-- night 0-5, morning 6-11, afternoon 12-17, evening 18-23), with the number of tracks behind each figure. A track counts
-- in a part of the day when it was played then.
with per_track as (
    select
        plays.listener,
        plays.track_key,
        part.time_of_day,
        cast(count(*) filter (where plays.is_stream) as double) as streams,
        count(*) filter (where plays.is_skip) / nullif(count(plays.is_skip), 0) as skip_rate,
        avg(plays.completion) as completion
    from {{ ref('fct_plays') }} as plays,
        unnest(['all day', case
            when plays.local_hour < 6 then 'night'
            when plays.local_hour < 12 then 'morning'
            when plays.local_hour < 18 then 'afternoon'
            else 'evening' end]) as part(time_of_day)
    group by plays.listener, plays.track_key, part.time_of_day
),

pairs as (
    select per_track.listener, per_track.time_of_day, feature.name as feature, feature.value, measure.name as measure, measure.value as outcome
    from per_track
    inner join {{ ref('dim_track') }} as tracks
        on tracks.listener = per_track.listener and tracks.track_key = per_track.track_key
    cross join unnest([
        {'name': 'valence', 'value': tracks.valence}, {'name': 'energy', 'value': tracks.energy},
        {'name': 'danceability', 'value': tracks.danceability}, {'name': 'acousticness', 'value': tracks.acousticness},
        {'name': 'instrumentalness', 'value': tracks.instrumentalness},
        {'name': 'speechiness', 'value': tracks.speechiness}, {'name': 'liveness', 'value': tracks.liveness},
        {'name': 'tempo', 'value': tracks.tempo}, {'name': 'loudness', 'value': tracks.loudness}
    ]) as features(feature)
    cross join unnest([
        {'name': 'streams', 'value': per_track.streams}, {'name': 'skip_rate', 'value': per_track.skip_rate},
        {'name': 'completion', 'value': per_track.completion}
    ]) as measures(measure)
    where tracks.valence is not null and tracks.energy is not null
)

select
    listener,
    feature,
    measure,
    time_of_day,
    cast(count(*) filter (where value is not null and outcome is not null) as bigint) as tracks,
    corr(outcome, value) as correlation
from pairs
group by listener, feature, measure, time_of_day
order by listener, feature, measure, list_position(['all day', 'night', 'morning', 'afternoon', 'evening'], time_of_day)
