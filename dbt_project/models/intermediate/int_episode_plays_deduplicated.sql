{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

-- One row per podcast/video episode or audiobook chapter play, never counted as music, including the podcast
-- episodes an old account-data export lists among its songs.
-- The same rules as music, by name: copies within a source (same time, same item, same ms_played) count as
-- macro plays_among_copies says, and an account-data record matches the nearest extended record of the same show and
-- episode (audiobooks: the same book) within 90 s, one to one.
-- Incremental: days with new records and their neighbours are recomputed, as for music.
with
{% set sources = ['stg_spotify_export__extended_episode_streams', 'stg_spotify_export__extended_audiobook_streams',
                  'stg_spotify_export__standard_episode_streams', 'stg_spotify_export__standard_audiobook_streams'] %}
{% set staging_relations = [] %}{% for source in sources %}{% do staging_relations.append(ref(source)) %}{% endfor %}
{% if is_incremental() %}
affected_days as (
    select distinct listener, utc_date + day_offset as utc_date
    from (
        {% for source in sources %}
        {{ days_with_new_records(ref(source)) }}
        union
        {% endfor %}
        {{ days_changed_in(ref('int_standard_streams_deduplicated'), 'played_on_utc') }}
    ), (values (-1), (0), (1)) as offsets(day_offset)
),

input_days as (
    select distinct listener, utc_date + day_offset as utc_date
    from affected_days, (values (-1), (0), (1)) as offsets(day_offset)
),
{% endif %}

extended_records as (
    select listener, 'podcast_episode' as content_type, played_at_utc, show_name, episode_name, episode_uri as item_uri,
           ms_played, concat_ws(':', 'extended', export_hash, source_file, record_index) as record_id, loaded_at,
           export_hash, source_file, record_index
    from {{ ref('stg_spotify_export__extended_episode_streams') }}
    union all
    select listener, 'audiobook_chapter', played_at_utc, audiobook_name, chapter_name, chapter_uri,
           ms_played, concat_ws(':', 'extended', export_hash, source_file, record_index), loaded_at,
           export_hash, source_file, record_index
    from {{ ref('stg_spotify_export__extended_audiobook_streams') }}
),

standard_records as (
    select listener, 'podcast_episode' as content_type, played_at_utc, show_name, episode_name, null as item_uri,
           ms_played, concat_ws(':', 'standard', export_hash, source_file, record_index) as record_id, loaded_at,
           export_hash, source_file, record_index
    from {{ ref('stg_spotify_export__standard_episode_streams') }}
    union all
    select listener, 'audiobook_chapter', played_at_utc, audiobook_name, chapter_name, null,
           ms_played, concat_ws(':', 'standard', export_hash, source_file, record_index), loaded_at,
           export_hash, source_file, record_index
    from {{ ref('stg_spotify_export__standard_audiobook_streams') }}
    union all
    -- Podcast episodes among an old account-data export's songs (int_standard_streams_deduplicated says which).
    select listener, 'podcast_episode', played_at_utc, artist_name, track_name, null,
           ms_played, record_id, loaded_at, export_hash, source_file, record_index
    from {{ ref('int_standard_streams_deduplicated') }}
    where is_podcast_episode
),

window_records as (
    select 'extended' as source, * from extended_records
    union all
    select 'standard' as source, * from standard_records
),

keyed as (
    select
        *,
        -- The account-data export names no chapter, so audiobooks match by book alone.
        case when content_type = 'audiobook_chapter' then 'book' || chr(31) || normalize_name(show_name)
             else normalize_name(show_name) || chr(31) || normalize_name(episode_name) end as item_key
    from window_records
    {% if is_incremental() %}
    where (listener, cast(played_at_utc as date)) in (select listener, utc_date from input_days)
    {% endif %}
),

distinct_records as (
    {{ plays_among_copies('keyed', 'listener, source, played_at_utc, coalesce(item_uri, item_key), ms_played',
                          precision_ms="case when source = 'extended' then 1000 else 60000 end",
                          preference='loaded_at desc, record_id') }}
),

extended as (select * from distinct_records where source = 'extended'),
standard as (select * from distinct_records where source = 'standard'),

candidates as (
    select
        standard.listener,
        standard.record_id as lower_id,
        extended.record_id as higher_id,
        {{ distance_to_minute('extended.played_at_utc', 'standard.played_at_utc') }} as distance_ms
    from standard
    inner join extended
        on extended.listener = standard.listener
        and extended.item_key = standard.item_key
        and extended.played_at_utc between standard.played_at_utc - interval 90 second
                                       and standard.played_at_utc + interval 90 second
),

{{ mutual_nearest_pairs('candidates', 'episode') }}

plays as (
    select extended.*, list_value('extended') || case when pairs.lower_id is not null then ['standard'] else [] end as seen_in_sources
    from extended
    left join episode_pairs as pairs on pairs.listener = extended.listener and pairs.higher_id = extended.record_id
    union all
    select standard.*, ['standard']
    from standard
    where (standard.listener, standard.record_id) not in (select listener, lower_id from episode_pairs)
)

select
    plays.listener,
    md5(record_id) as episode_play_id,
    content_type,
    played_at_utc,
    {{ to_local_time('played_at_utc') }} as played_at_local,
    cast({{ to_local_time('played_at_utc') }} as date) as local_date,
    cast(hour({{ to_local_time('played_at_utc') }}) as integer) as local_hour,
    show_name,
    episode_name,
    item_uri,
    item_key,
    ms_played,
    source,
    seen_in_sources,
    {{ day_watermark_columns(staging_relations) }}
from plays
inner join {{ ref('stg_installation__listeners') }} as listeners on listeners.listener = plays.listener
{% if is_incremental() %}
where (plays.listener, cast(played_at_utc as date)) in (select listener, utc_date from affected_days)
{% endif %}
