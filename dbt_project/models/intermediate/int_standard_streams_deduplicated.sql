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

names as (
    select distinct artist_name, track_name from records
),

keyed_names as (
    select
        artist_name,
        track_name,
        normalize_name(artist_name) as artist_key,
        normalize_name(artist_name) || chr(31) || normalize_name(track_name) as track_key
    from names
),

keyed as (
    select records.*, keyed_names.artist_key, keyed_names.track_key
    from records
    inner join keyed_names
        on records.artist_name = keyed_names.artist_name
        and records.track_name = keyed_names.track_name
),

copies as (
    select
        *,
        count(*) over (partition by played_at_utc, track_key, ms_played) as copies_seen,
        row_number() over (partition by played_at_utc, track_key, ms_played order by loaded_at desc, record_id) as copy_rank
    from keyed
)

select
    * exclude (copy_rank),
    cast(played_at_utc as date) as played_on_utc,
    (select max(loaded_at) from {{ ref('stg_spotify_export__standard_music_streams') }}) as loaded_through,
    {{ current_batch_at() }} as batch_at
from copies
where copy_rank = 1
