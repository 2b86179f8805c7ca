-- Track x credited artist, for each listener's tracks. Every track has its primary artist (position 0); where the Web API has
-- seen the track, in a play or a catalog lookup, every credited artist in Spotify's order.
with credit_json as (
    select listener, track_key, artists_json
    from {{ ref('int_plays_deduplicated') }}
    where artists_json is not null
    union
    select uris.listener, uris.track_key, catalog.artists_json
    from {{ ref('stg_spotify_api__catalog_tracks') }} as catalog
    inner join (select distinct listener, track_uri, track_key from {{ ref('int_plays_deduplicated') }}) as uris
        on uris.track_uri = catalog.track_uri
    where catalog.is_found and catalog.artists_json is not null
),

credit_lists as (
    select distinct
        listener,
        track_key,
        json_transform(artists_json, '[{"id": "VARCHAR", "name": "VARCHAR", "uri": "VARCHAR"}]') as artists
    from credit_json
),

api_credits as (
    select distinct
        listener,
        track_key,
        cast(generate_subscripts(artists, 1) - 1 as integer) as artist_position,
        unnest(artists) as artist
    from credit_lists
),

primary_artists as (
    select listener, track_key, artist_key, artist_name from {{ ref('dim_track') }}
)

select
    primary_artists.listener,
    primary_artists.track_key,
    primary_artists.artist_key,
    primary_artists.artist_name,
    0 as artist_position,
    api_credits.artist.uri as artist_uri,
    true as is_primary
from primary_artists
left join api_credits
    on api_credits.listener = primary_artists.listener and api_credits.track_key = primary_artists.track_key
    and api_credits.artist_position = 0

union all

select
    listener,
    track_key,
    normalize_name(artist.name) as artist_key,
    artist.name as artist_name,
    artist_position,
    artist.uri as artist_uri,
    false as is_primary
from api_credits
where artist_position > 0
