-- One row per music record of every imported extended export (duplicates across exports included).
select
    ts as played_at_utc,
    ms_played,
    master_metadata_track_name as track_name,
    master_metadata_album_artist_name as artist_name,
    master_metadata_album_album_name as album_name,
    spotify_track_uri as track_uri,
    platform,
    conn_country as connection_country,
    reason_start,
    reason_end,
    shuffle as is_shuffle,
    skipped as is_skipped,
    offline as is_offline,
    -- The export gives unix seconds in older years and milliseconds in newer ones.
    case when offline_timestamp > 100000000000 then epoch_ms(offline_timestamp)
         when offline_timestamp > 0 then epoch_ms(offline_timestamp * 1000) end as offline_started_at_utc,
    incognito_mode as is_incognito,
    _export_hash as export_hash,
    _file_path as source_file,
    _record_index as record_index,
    _loaded_at as loaded_at,
    exports.listener
from {{ source('spotify_export', 'extended_music_streams') }} as records
inner join {{ source('spotify_export', 'export_imports') }} as exports on exports.export_hash = records._export_hash
