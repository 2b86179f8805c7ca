{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'local_date']) }}

-- One row per listener and local date with music plays: streams, and streams per local hour.
-- Incremental: only local dates next to the UTC days fct_plays rewrote are counted again.
select
    listener,
    local_date,
    cast(any_value(iso_weekday) as integer) as iso_weekday,
    cast(count_if(is_stream) as bigint) as streams,
    {{ hourly_counts('local_hour', 'is_stream') }} as hourly_streams,
    cast(count(*) as bigint) as plays_all,
    cast(count(*) filter (where is_skip) as bigint) as skips,
    cast(count(is_skip) as bigint) as plays_known,
    cast(sum(ms_played) as bigint) as ms_played,
    {{ current_batch_at() }} as batch_at
from {{ ref('fct_plays') }}
{% if is_incremental() %}
where (listener, local_date) in ({{ local_dates_changed_in(ref('fct_plays')) }})
{% endif %}
group by listener, local_date
