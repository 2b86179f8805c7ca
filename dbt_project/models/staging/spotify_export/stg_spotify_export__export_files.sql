-- What became of every file of every export: the ingest report, file by file.
select
    export_hash,
    file_path,
    file_role,
    status,
    records_accepted,
    records_quarantined,
    records_without_content,
    message
from {{ source('spotify_export', 'export_files') }}
