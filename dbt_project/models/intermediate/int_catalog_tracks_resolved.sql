{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'track_key']) }}

-- One row per listener and track key the catalog describes (the URI details are facts about the music, shared by
-- every listener; which URI a listener played most is the listener's): its length (counting rules, section 9: completion), the length of
-- its most played URI among those with a known length (ties: the first URI); and its release year, the earliest
-- among its URIs (a single or a reissue does not make a song younger). A URI's details come from its catalog
-- lookup, else from the newest recently-played answer that described it (the Web API's track object).
-- Incremental: track keys with plays on the days the deduplication recomputed, and keys of URIs described since
-- this model last ran.
with uri_details as (
    select track_uri, duration_ms, try_cast(left(album_release_date, 4) as integer) as release_year, loaded_at
    from (
        select track_uri, duration_ms, album_release_date, loaded_at, 1 as preference
        from {{ ref('stg_spotify_api__catalog_tracks') }}
        where is_found
        union all
        select track_uri, duration_ms, album_release_date, loaded_at, 2 as preference
        from {{ ref('stg_spotify_api__recently_played_items') }}
        where track_uri is not null
    )
    qualify row_number() over (partition by track_uri order by preference, loaded_at desc) = 1
)

{% if is_incremental() %}
, touched as (
    select listener, track_key from {{ ref('int_plays_deduplicated') }}
    where batch_at > {{ last_batch_at() }}
    union
    select plays.listener, plays.track_key
    from {{ ref('int_plays_deduplicated') }} as plays
    inner join uri_details using (track_uri)
    where uri_details.loaded_at > {{ last_batch_at() }}
)
{% endif %}

, uri_plays as (
    select listener, track_key, track_uri, count(*) as plays
    from {{ ref('int_plays_deduplicated') }}
    where track_uri is not null
    {% if is_incremental() %} and (listener, track_key) in (select listener, track_key from touched) {% endif %}
    group by listener, track_key, track_uri
)

, lengths as (
    select uri_plays.listener, uri_plays.track_key, uri_details.duration_ms
    from uri_plays
    inner join uri_details using (track_uri)
    where uri_details.duration_ms > 0
    qualify row_number() over (partition by uri_plays.listener, uri_plays.track_key order by uri_plays.plays desc, uri_plays.track_uri) = 1
)

, release_years as (
    select uri_plays.listener, uri_plays.track_key, min(uri_details.release_year) as release_year
    from uri_plays
    inner join uri_details using (track_uri)
    group by uri_plays.listener, uri_plays.track_key
)

select
    listener,
    track_key,
    lengths.duration_ms,
    release_years.release_year,
    {{ current_batch_at() }} as batch_at
from release_years
left join lengths using (listener, track_key)
