{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='played_on_utc') }}

-- Rule 1 for the extended export: the same record seen in several exports (or twice in one) is one
-- record: same ts (to the second), same track (URI, or track_key without one), same ms_played.
-- The surviving copy is the one with skip flags (newer key sets), then the most recently loaded.
with records as (
    select
        *,
        concat_ws(':', 'extended', export_hash, source_file, record_index) as record_id
    from {{ ref('stg_spotify_export__extended_music_streams') }}
    {% if is_incremental() %}
    -- Only the UTC days that received records since the last run are recomputed (whole days).
    where cast(played_at_utc as date) in ({{ days_with_new_records(ref('stg_spotify_export__extended_music_streams')) }})
    {% endif %}
),

-- normalize_name() runs once per distinct spelling, not once per play.
names as (
    select distinct artist_name, track_name, album_name from records
),

keyed_names as (
    select
        artist_name,
        track_name,
        album_name,
        normalize_name(artist_name) as artist_key,
        normalize_name(artist_name) || chr(31) || normalize_name(track_name) as track_key,
        normalize_name(artist_name) || chr(31) || normalize_name(album_name) as album_key
    from names
),

keyed as (
    select records.*, keyed_names.artist_key, keyed_names.track_key, keyed_names.album_key
    from records
    inner join keyed_names
        on records.artist_name = keyed_names.artist_name
        and records.track_name = keyed_names.track_name
        and records.album_name is not distinct from keyed_names.album_name
),

copies as (
    select
        *,
        count(*) over (partition by played_at_utc, coalesce(track_uri, track_key), ms_played) as copies_seen,
        row_number() over (
            partition by played_at_utc, coalesce(track_uri, track_key), ms_played
            order by is_skipped is null, loaded_at desc, record_id
        ) as copy_rank
    from keyed
)

select
    * exclude (copy_rank),
    cast(played_at_utc as date) as played_on_utc,
    (select max(loaded_at) from {{ ref('stg_spotify_export__extended_music_streams') }}) as loaded_through,
    {{ current_batch_at() }} as batch_at
from copies
where copy_rank = 1
