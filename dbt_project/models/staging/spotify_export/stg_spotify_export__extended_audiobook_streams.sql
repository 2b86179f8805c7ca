-- One row per audiobook chapter record of every imported extended export.
select
    ts as played_at_utc,
    ms_played,
    audiobook_title as audiobook_name,
    audiobook_uri,
    audiobook_chapter_title as chapter_name,
    audiobook_chapter_uri as chapter_uri,
    platform,
    conn_country as connection_country,
    reason_start,
    reason_end,
    shuffle as is_shuffle,
    skipped as is_skipped,
    offline as is_offline,
    incognito_mode as is_incognito,
    _export_hash as export_hash,
    _file_path as source_file,
    _record_index as record_index,
    _loaded_at as loaded_at,
    exports.listener
from {{ source('spotify_export', 'extended_audiobook_streams') }} as records
inner join {{ source('spotify_export', 'export_imports') }} as exports on exports.export_hash = records._export_hash
