{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='local_date') }}

-- One row per local date with music plays: streams, and streams per local hour.
-- Incremental: only local dates next to the UTC days fct_plays rewrote are counted again.
select
    local_date,
    any_value(iso_weekday) as iso_weekday,
    count_if(is_stream) as streams,
    {{ hourly_counts('local_hour', 'is_stream') }} as hourly_streams,
    count(*) as plays_all,
    count_if(skipped) as skips,
    sum(ms_played) as ms_played,
    {{ current_batch_at() }} as batch_at
from {{ ref('fct_plays') }}
{% if is_incremental() %}
where local_date in ({{ local_dates_changed_in(ref('fct_plays')) }})
{% endif %}
group by local_date
