-- One row per music record of every imported account-data export. endTime has minute precision.
select
    "endTime" as played_at_utc,
    "msPlayed" as ms_played,
    "trackName" as track_name,
    "artistName" as artist_name,
    _export_hash as export_hash,
    _file_path as source_file,
    _record_index as record_index,
    _loaded_at as loaded_at
from {{ source('spotify_export', 'standard_music_streams') }}
