-- The usual listening mode of each local hour (counting rules, section 11): the mode with the most streams in that hour,
-- all days together (ties: the lower mode id); null in an hour without streams of tracks with a mode.
with hours as (
    select listeners.listener, range as local_hour
    from {{ ref('stg_installation__listeners') }} as listeners, range(0, 24)
),

counts as (
    select listener, local_hour, mode_id, count(*) as streams
    from {{ ref('fct_plays') }}
    where is_stream and mode_id is not null
    group by listener, local_hour, mode_id
)

select
    hours.listener,
    cast(hours.local_hour as integer) as local_hour,
    arg_max(counts.mode_id, [counts.streams, -counts.mode_id]) filter (where counts.mode_id is not null) as mode_id,
    cast(coalesce(max(counts.streams), 0) as bigint) as streams
from hours
left join counts on counts.listener = hours.listener and counts.local_hour = hours.local_hour
group by hours.listener, hours.local_hour
order by hours.listener, local_hour
