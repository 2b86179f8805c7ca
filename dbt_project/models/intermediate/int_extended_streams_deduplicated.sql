{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='played_on_utc') }}

-- docs/counting-rules.md rule 6.1 for the extended export: records with the same ts (to the second), the same track (URI, or track_key
-- without one) and the same ms_played are copies (macro plays_among_copies): across files, the file with the most
-- copies counts (preferring records with skip flags, as newer key sets have, then the most recently loaded);
-- inside one file, copies of a play of a second or longer are one play (glitch copies).
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

-- The skip flag any copy of the same record carries (an older export's copy of a play that a newer export flags): a
-- kept copy without one takes it below, so the play's skip is known whichever file's copies are kept (section 9).
flagged as (
    select
        *,
        bool_or(is_skipped) over (partition by played_at_utc, coalesce(track_uri, track_key), ms_played)
            as skip_flag_of_copies
    from keyed
),

copies as (
    {{ plays_among_copies('flagged', 'played_at_utc, coalesce(track_uri, track_key), ms_played', precision_ms=1000,
                          preference='is_skipped is null, loaded_at desc, record_id') }}
)

select
    * exclude (skip_flag_of_copies) replace (coalesce(is_skipped, skip_flag_of_copies) as is_skipped),
    {{ day_watermark_columns([ref('stg_spotify_export__extended_music_streams')]) }}
from copies
