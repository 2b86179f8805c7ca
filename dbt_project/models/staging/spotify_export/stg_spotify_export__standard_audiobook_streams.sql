-- One row per audiobook record of every imported account-data export.
select
    "endTime" as played_at_utc,
    "msPlayed" as ms_played,
    "audiobookName" as audiobook_name,
    "chapterName" as chapter_name,
    "authorName" as author_name,
    _export_hash as export_hash,
    _file_path as source_file,
    _record_index as record_index,
    _loaded_at as loaded_at,
    exports.listener
from {{ source('spotify_export', 'standard_audiobook_streams') }} as records
inner join {{ source('spotify_export', 'export_imports') }} as exports on exports.export_hash = records._export_hash
