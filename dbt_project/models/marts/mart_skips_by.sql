-- Skips by how the play started and was heard (counting rules, section 9): one row per dimension and value, over the
-- plays whose skip is known. Booleans read 'true' or 'false'; a value the export left out is null.
with known as (
    select platform, shuffle, reason_start, offline, is_skip
    from {{ ref('fct_plays') }}
    where is_skip is not null
),

by_value as (
    select 'platform' as dimension, platform as value, is_skip from known
    union all
    select 'shuffle', cast(shuffle as varchar), is_skip from known
    union all
    select 'reason_start', reason_start, is_skip from known
    union all
    select 'offline', cast(offline as varchar), is_skip from known
)

select dimension, value, cast(count(*) as bigint) as plays_known, cast(count(*) filter (where is_skip) as bigint) as skips
from by_value
group by dimension, value
order by dimension, plays_known desc, value
