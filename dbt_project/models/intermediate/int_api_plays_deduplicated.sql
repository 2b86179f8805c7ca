{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

-- Rule 6.1 (docs/counting-rules.md) for the Web API: overlapping polls return the same item again; the same played_at (to the
-- second) and the same track URI is one play.
with records as (
    select
        *,
        concat_ws(':', 'api', response_file, item_index) as record_id
    from {{ ref('stg_spotify_api__recently_played_items') }}
    where track_name is not null and artist_name is not null
    {% if is_incremental() %}
    -- Only the UTC days that received records since the last run are recomputed (whole days).
    and (listener, cast(played_at_utc as date)) in ({{ days_with_new_records(ref('stg_spotify_api__recently_played_items')) }})
    {% endif %}
),

{{ with_identity_keys('records') }}

copies as (
    select
        *,
        count(*) over copies_of_record as copies_seen,
        row_number() over copies_of_record as copy_rank
    from keyed
    -- One window for both: the records are partitioned and sorted once.
    window copies_of_record as (
        partition by listener, date_trunc('second', played_at_utc), coalesce(track_uri, track_key)
        order by loaded_at, record_id
        rows between unbounded preceding and unbounded following
    )
)

select
    * exclude (copy_rank),
    {{ day_watermark_columns([ref('stg_spotify_api__recently_played_items')]) }}
from copies
where copy_rank = 1
