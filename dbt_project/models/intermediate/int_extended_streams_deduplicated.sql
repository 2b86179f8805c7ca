{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

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
    where (listener, cast(played_at_utc as date)) in ({{ days_with_new_records(ref('stg_spotify_export__extended_music_streams')) }})
    {% endif %}
),

{{ with_identity_keys('records') }}

-- A kept copy without a skip flag takes the flag any other copy of the record carries (an older export's copy of a
-- play that a newer export flags), so the play's skip is known whichever file's copies are kept (section 9).
copies as (
    {{ plays_among_copies('keyed', 'listener, played_at_utc, coalesce(track_uri, track_key), ms_played', precision_ms=1000,
                          preference='is_skipped is null, loaded_at desc, record_id', with_skip_flag=true) }}
)

select
    * exclude (copies_skip_flag) replace (coalesce(is_skipped, copies_skip_flag) as is_skipped),
    {{ day_watermark_columns([ref('stg_spotify_export__extended_music_streams')]) }}
from copies
