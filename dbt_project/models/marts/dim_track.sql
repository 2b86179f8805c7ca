{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'track_key'],
    post_hook=[
        "{{ refresh_display_names('track', 'track_key', 'track_name') }}",
        "{{ refresh_display_names('artist', 'artist_key', 'artist_name') }}",
        "{{ refresh_recording_keys('list_contains(target.track_uris, catalog.track_uri)') }}",
    ],
) }}
-- depends_on: {{ ref('stg_spotify_api__catalog_tracks') }}

-- One row per listener and track key (artist + track name): album and single releases of a song are one track.
-- Incremental: only keys with plays on the days fct_plays rewrote are aggregated again.
-- `not materialized`: DuckDB would otherwise copy every play into a scratch table before an incremental run's
-- touched keys narrow them down (at a million plays that copy was most of the model's time).
with plays as not materialized (
    select * from {{ ref('fct_plays') }}
)

{% if is_incremental() %}
, touched as (
    select listener, track_key from plays where batch_at > {{ last_batch_at() }}
    union
    -- tracks whose length the catalog learnt since
    select listener, track_key from {{ ref('int_catalog_tracks_resolved') }} where batch_at > {{ last_batch_at() }}
    union
    -- tracks whose audio features a catalog file gave since
    select listener, track_key from {{ ref('int_track_features_resolved') }} where loaded_at > {{ last_batch_at() }}
)
{% endif %}

-- The album a track was played from most often (ties: the most recent, then by name): deterministic,
-- so an incremental build and a full one agree.
, albums as (
    select listener, track_key, album_name
    from plays
    where album_name is not null
    {% if is_incremental() %} and (listener, track_key) in (select listener, track_key from touched) {% endif %}
    group by listener, track_key, album_name
    qualify row_number() over (
        partition by listener, track_key order by count(*) desc, max(played_at_utc) desc, album_name
    ) = 1
)

select
    listener,
    track_key,
    {{ entity_id('track_key') }} as track_id,
    any_value(artist_key) as artist_key,
    any_value(track_name) as track_name,
    any_value(artist_name) as artist_name,
    (select albums.album_name from albums
     where albums.listener = plays.listener and albums.track_key = plays.track_key) as album_name,
    list(distinct track_uri order by track_uri) filter (where track_uri is not null) as track_uris,
    max(recording_key) as recording_key,
    any_value(catalog.duration_ms) as duration_ms,
    any_value(catalog.release_year) as release_year,
    {% for feature in ['danceability', 'energy', 'valence', 'tempo', 'acousticness', 'instrumentalness', 'speechiness',
                       'liveness', 'loudness'] -%}
    any_value(features.{{ feature }}) as {{ feature }},
    {% endfor -%}
    any_value(features.features_source) as features_source,
    {{ play_stats() }},
    {{ current_batch_at() }} as batch_at
from plays
left join {{ ref('int_catalog_tracks_resolved') }} as catalog using (listener, track_key)
left join {{ ref('int_track_features_resolved') }} as features using (listener, track_key)
{% if is_incremental() %}
where (listener, track_key) in (select listener, track_key from touched)
{% endif %}
group by listener, track_key
