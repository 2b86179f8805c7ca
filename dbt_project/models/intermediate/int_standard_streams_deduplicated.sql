{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

-- docs/counting-rules.md rule 6.1 for the account-data export: records with the same endTime (to the minute), track_key and msPlayed
-- are copies (macro plays_among_copies): across files, the file with the most copies counts; inside one file,
-- as many plays as fit in the minute (three identical rows of a 20-second repeat-one skip are three plays).
-- Names here may be decomposed Unicode or carry stray spaces; the keys are normalized.
--
-- Podcasts among the songs: before 2023 StreamingHistory*.json held podcast episodes too, the show as artistName
-- and the episode as trackName. A row whose artist is a show that a podcast record names (an extended export's
-- episode_show_name, an account-data podcast file's podcastName) is an episode (is_podcast_episode): music models
-- leave it out and int_episode_plays_deduplicated counts it. Where no source names the show, the row stays music.
-- A listener's own podcast records tell which of its songs are episodes (another listener's shows do not).
with known_shows as (
    select listener, normalize_name(show_name) as show_key, min(loaded_at) as known_since
    from (
        select listener, show_name, min(loaded_at) as loaded_at
        from {{ ref('stg_spotify_export__extended_episode_streams') }}
        where show_name is not null
        group by listener, show_name
        union all
        select listener, show_name, min(loaded_at)
        from {{ ref('stg_spotify_export__standard_episode_streams') }}
        where show_name is not null
        group by listener, show_name
    )
    group by 1, 2
),

records as (
    select
        *,
        concat_ws(':', 'standard', export_hash, source_file, record_index) as record_id
    from {{ ref('stg_spotify_export__standard_music_streams') }}
    {% if is_incremental() %}
    -- The UTC days that received records since the last run, and the days of rows by an artist that has since
    -- become known as a show (whole days).
    where (listener, cast(played_at_utc as date)) in ({{ days_with_new_records(ref('stg_spotify_export__standard_music_streams')) }})
       or (listener, cast(played_at_utc as date)) in (
           select listener, played_on_utc from {{ this }}
           where (listener, artist_key) in (
               select listener, show_key from known_shows
               where known_since > (select coalesce(max(shows_known_through), cast('1970-01-01' as timestamp)) from {{ this }})
           )
       )
    {% endif %}
),

{{ with_identity_keys('records', with_album=false) }}

copies as (
    {{ plays_among_copies('keyed', 'listener, played_at_utc, track_key, ms_played', precision_ms=60000,
                          preference='loaded_at desc, record_id') }}
)

select
    copies.*,
    (listener, artist_key) in (select listener, show_key from known_shows) as is_podcast_episode,
    {{ day_watermark_columns([ref('stg_spotify_export__standard_music_streams')]) }},
    (select max(known_since) from known_shows) as shows_known_through
from copies
