{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='played_on_utc') }}

-- Rule 1 for the extended export: the same record seen in several exports (or twice in one) is one
-- record: same ts (to the second), same track (URI, or track_key without one), same ms_played.
-- The surviving copy is the one with skip flags (newer key sets), then the most recently loaded.
-- `records` is `not materialized`: the identity keys read it twice, and DuckDB would otherwise copy every record
-- into a scratch table first (about 1 s of a million-play build).
with records as not materialized (
    select
        *,
        concat_ws(':', 'extended', export_hash, source_file, record_index) as record_id
    from {{ ref('stg_spotify_export__extended_music_streams') }}
    {% if is_incremental() %}
    -- Only the UTC days that received records since the last run are recomputed (whole days).
    where cast(played_at_utc as date) in ({{ days_with_new_records(ref('stg_spotify_export__extended_music_streams')) }})
    {% endif %}
),

{{ with_identity_keys('records') }}

copies as (
    select
        *,
        count(*) over copies_of_record as copies_seen,
        row_number() over copies_of_record as copy_rank
    from keyed
    -- One window for both: DuckDB partitions and sorts the records once (0.5 s of a million-play build).
    window copies_of_record as (
        partition by played_at_utc, coalesce(track_uri, track_key), ms_played
        order by is_skipped is null, loaded_at desc, record_id
        rows between unbounded preceding and unbounded following
    )
)

select
    * exclude (copy_rank),
    cast(played_at_utc as date) as played_on_utc,
    (select max(loaded_at) from {{ ref('stg_spotify_export__extended_music_streams') }}) as loaded_through,
    {{ current_batch_at() }} as batch_at
from copies
where copy_rank = 1
