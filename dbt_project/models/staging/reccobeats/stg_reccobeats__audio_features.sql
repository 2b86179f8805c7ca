-- ReccoBeats' audio features, one row per Spotify track (counting rules, section 11).
select
    spotify_id,
    reccobeats_id,
    danceability,
    energy,
    valence,
    acousticness,
    instrumentalness,
    speechiness,
    liveness,
    tempo,
    loudness,
    _loaded_at as loaded_at
from {{ source('reccobeats', 'reccobeats_audio_features') }}
