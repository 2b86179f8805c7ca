{{ config(materialized='view') }}

-- Every deduplicated music play with its calendar fields in the listener's zone (docs/counting-rules.md, section 3).
-- A view: the conversion is cheap, and readers filter it (by batch_at or date) before it runs.
select
    plays.*,
    {{ to_local_time('played_at_utc') }} as played_at_local,
    cast({{ to_local_time('played_at_utc') }} as date) as local_date,
    cast(hour({{ to_local_time('played_at_utc') }}) as integer) as local_hour,
    cast(isodow({{ to_local_time('played_at_utc') }}) as integer) as iso_weekday
from {{ ref('int_plays_deduplicated') }} as plays
inner join {{ ref('stg_installation__listeners') }} as listeners on listeners.listener = plays.listener
