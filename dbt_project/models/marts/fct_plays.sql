{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'played_on_utc'],
    post_hook=[
        "{{ refresh_display_names('track', 'track_key', 'track_name') }}",
        "{{ refresh_display_names('artist', 'artist_key', 'artist_name') }}",
        "{{ refresh_display_names('album', 'album_key', 'album_name') }}",
        "{{ refresh_recording_keys('catalog.track_uri = target.track_uri') }}",
        "{{ refresh_completion() }}",
        "{{ refresh_mood() }}",
        "{{ refresh_modes() }}",
        "{{ assign_sessions() }}",
    ],
) }}

-- One row per deduplicated music play of each listener, with its display names and local calendar fields.
-- Incremental: the UTC days the deduplication recomputed are replaced whole.
select
    plays.listener,
    plays.play_id,
    plays.played_at_utc,
    plays.played_at_local,
    plays.local_date,
    plays.local_hour,
    plays.iso_weekday,
    plays.track_key,
    plays.artist_key,
    plays.album_key,
    coalesce(plays.isrc, catalog.isrc) as recording_key,
    track_names.display_name as track_name,
    artist_names.display_name as artist_name,
    album_names.display_name as album_name,
    plays.track_uri,
    plays.ms_played,
    plays.is_ms_played_estimated,
    plays.is_stream,
    plays.is_skipped as skipped,
    -- A skip (counting rules, section 9): known only where an extended-export record is behind the play.
    case when plays.extended_record_id is not null
        then coalesce(plays.is_skipped, false)
            or (coalesce(plays.reason_end, '') in ('fwdbtn', 'backbtn') and plays.ms_played < 30000)
    end as is_skip,
    -- Completion (section 9): the share of the track's length played, where the catalog knows the length.
    -- (DuckDB's least skips NULLs: without a length it would say 1.0.)
    case when durations.duration_ms > 0 then least(plays.ms_played / durations.duration_ms, 1.0) end as completion,
    -- The mood quadrant of the track's valence and energy (section 11), where a catalog file gave them.
    {{ mood_quadrant('features.valence', 'features.energy') }} as mood,
    -- The listening mode of the track (section 11, int_track_modes), where it has features and a stream.
    modes.mode_id,
    -- The play's session (section 9), set by the post-hook assign_sessions once every play of the run is in.
    cast(null as varchar) as session_id,
    plays.is_shuffle as shuffle,
    plays.is_offline as offline,
    plays.is_incognito as incognito,
    plays.platform,
    plays.reason_start,
    plays.reason_end,
    plays.source,
    plays.seen_in_sources,
    plays.api_record_id,
    plays.extended_record_id,
    plays.standard_record_id,
    plays.played_on_utc,
    {{ current_batch_at() }} as batch_at
from {{ ref('int_plays_localized') }} as plays
-- Left joins for the names, though every play's keys are ranked (int_names_ranked reads the same plays, and track_key
-- and artist_key are never null): with two inner joins DuckDB joined the track names to the artist names by listener
-- first, a product of every listener's tracks and artists (237 million rows with 1,000 listeners: 106 s of a 50-play
-- poll, 1.1 s this way; bench/RESULTS.md).
left join {{ ref('int_names_ranked') }} as track_names
    on track_names.listener = plays.listener and track_names.entity = 'track'
    and track_names.entity_key = plays.track_key
left join {{ ref('int_names_ranked') }} as artist_names
    on artist_names.listener = plays.listener and artist_names.entity = 'artist'
    and artist_names.entity_key = plays.artist_key
left join {{ ref('int_names_ranked') }} as album_names
    on album_names.listener = plays.listener and album_names.entity = 'album'
    and album_names.entity_key = plays.album_key
left join {{ ref('int_catalog_tracks_resolved') }} as durations
    on durations.listener = plays.listener and durations.track_key = plays.track_key
left join {{ ref('stg_spotify_api__catalog_tracks') }} as catalog
    on catalog.track_uri = plays.track_uri and catalog.is_found
left join {{ ref('int_track_features_resolved') }} as features
    on features.listener = plays.listener and features.track_key = plays.track_key
left join {{ ref('int_track_modes') }} as modes
    on modes.listener = plays.listener and modes.track_key = plays.track_key
{% if is_incremental() %}
where plays.batch_at > {{ last_batch_at() }}
{% endif %}
