-- One row per album key (primary artist + album name); account-data plays carry no album.
select
    album_key,
    any_value(album_name) as album_name,
    any_value(artist_key) as artist_key,
    any_value(artist_name) as artist_name,
    min(played_at_utc) filter (where is_stream) as first_stream_at_utc,
    max(played_at_utc) filter (where is_stream) as last_stream_at_utc,
    count_if(is_stream) as streams,
    count(*) as plays_all,
    count(distinct track_key) as tracks
from {{ ref('fct_plays') }}
where album_key is not null
group by album_key
