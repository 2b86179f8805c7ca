-- Skips by how the play started and was heard (counting rules, section 9): one row per dimension and value, over the
-- plays whose skip is known. Booleans read 'true' or 'false'; a value the export left out is null.
with known as (
    select listener, platform, shuffle, reason_start, offline, is_skip
    from {{ ref('fct_plays') }}
    where is_skip is not null
),

by_value as (
    select listener, 'platform' as dimension, platform as value, is_skip from known
    union all
    select listener, 'shuffle', cast(shuffle as varchar), is_skip from known
    union all
    select listener, 'reason_start', reason_start, is_skip from known
    union all
    select listener, 'offline', cast(offline as varchar), is_skip from known
)

select listener, dimension, value, cast(count(*) as bigint) as plays_known,
       cast(count(*) filter (where is_skip) as bigint) as skips
from by_value
group by listener, dimension, value
order by listener, dimension, plays_known desc, value
