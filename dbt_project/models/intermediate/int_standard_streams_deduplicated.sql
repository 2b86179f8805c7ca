{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='played_on_utc') }}

-- Rule 1 for the account-data export: same endTime, same track_key, same msPlayed -> one record.
-- Names here may be decomposed Unicode or carry stray spaces; the keys are normalized.
with records as (
    select
        *,
        concat_ws(':', 'standard', export_hash, source_file, record_index) as record_id
    from {{ ref('stg_spotify_export__standard_music_streams') }}
    {% if is_incremental() %}
    -- Only the UTC days that received records since the last run are recomputed (whole days).
    where cast(played_at_utc as date) in ({{ days_with_new_records(ref('stg_spotify_export__standard_music_streams')) }})
    {% endif %}
),

{{ with_identity_keys('records', with_album=false) }}

copies as (
    select
        *,
        count(*) over copies_of_record as copies_seen,
        row_number() over copies_of_record as copy_rank
    from keyed
    -- One window for both: the records are partitioned and sorted once.
    window copies_of_record as (
        partition by played_at_utc, track_key, ms_played
        order by loaded_at desc, record_id
        rows between unbounded preceding and unbounded following
    )
)

select
    * exclude (copy_rank),
    cast(played_at_utc as date) as played_on_utc,
    (select max(loaded_at) from {{ ref('stg_spotify_export__standard_music_streams') }}) as loaded_through,
    {{ current_batch_at() }} as batch_at
from copies
where copy_rank = 1
