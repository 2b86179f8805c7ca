{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['listener', 'album_key'],
    post_hook=[
        "{{ refresh_display_names('album', 'album_key', 'album_name') }}",
        "{{ refresh_display_names('artist', 'artist_key', 'artist_name') }}",
    ],
) }}

-- One row per listener and album key (primary artist + album name); account-data plays carry no album.
-- Incremental: only keys with plays on the days fct_plays rewrote are aggregated again.
-- `not materialized`: DuckDB would otherwise copy every play into a scratch table before an incremental run's
-- touched keys narrow them down (at a million plays that copy was most of the model's time).
with plays as not materialized (
    select * from {{ ref('fct_plays') }}
    where album_key is not null
)

{% if is_incremental() %}
, touched as (
    select distinct listener, album_key from plays where batch_at > {{ last_batch_at() }}
)
{% endif %}

select
    listener,
    album_key,
    any_value(album_name) as album_name,
    any_value(artist_key) as artist_key,
    any_value(artist_name) as artist_name,
    {{ play_stats() }},
    count(distinct track_key) as tracks,
    {{ current_batch_at() }} as batch_at
from plays
{% if is_incremental() %}
where (listener, album_key) in (select listener, album_key from touched)
{% endif %}
group by listener, album_key
