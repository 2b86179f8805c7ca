-- Streaks (counting rules, section 9): maximal runs of consecutive local dates each with at least one stream.
-- Consecutive dates minus their rank in date order give one constant per run (gaps and islands).
with days as (
    select listener, local_date, streams,
           local_date - cast(row_number() over (partition by listener order by local_date) as integer) as run
    from {{ ref('agg_daily_streams') }}
    where streams > 0
)

select
    listener,
    min(local_date) as streak_start,
    max(local_date) as streak_end,
    cast(count(*) as integer) as days,
    cast(sum(streams) as bigint) as streams
from days
group by listener, run
order by listener, streak_start
