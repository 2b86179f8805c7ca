-- Sessions per local month (counting rules, section 9), a session counted in the month of its local_date (its
-- start): how many, their minutes, the longest and the typical (median) session, in minutes listened.
select
    listener,
    cast(date_trunc('month', local_date) as date) as month,
    cast(count(*) as bigint) as sessions,
    cast(sum(plays) as bigint) as plays,
    sum(ms_played) / 60000.0 as minutes,
    max(minutes) as longest_session_minutes,
    arg_max(session_id, [minutes, -epoch_ms(started_at_utc)]) as longest_session_id,
    median(minutes) as median_session_minutes,
    median(plays) as median_session_plays
from {{ ref('fct_sessions') }}
group by 1, 2
order by 1, 2
