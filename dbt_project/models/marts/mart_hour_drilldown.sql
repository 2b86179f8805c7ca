{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'local_date'],
    post_hook=[
        "{{ refresh_display_names('track', 'track_key', 'track_name') }}",
    ],
) }}

-- Which tracks filled a local hour of a local date: one row per date x hour x track with a stream.
-- Incremental: only local dates next to the UTC days fct_plays rewrote are counted again.
select
    listener,
    local_date,
    local_hour,
    track_key,
    any_value(track_name) as track_name,
    any_value(artist_name) as artist_name,
    cast(count_if(is_stream) as bigint) as streams,
    cast(sum(ms_played) as bigint) as ms_played,
    {{ current_batch_at() }} as batch_at
from {{ ref('fct_plays') }}
{% if is_incremental() %}
where (listener, local_date) in ({{ local_dates_changed_in(ref('fct_plays')) }})
{% endif %}
group by listener, local_date, local_hour, track_key
having count_if(is_stream) > 0
