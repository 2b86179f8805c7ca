"""Listening modes (counting rules, section 11): the streamed tracks with features, each with its mode from
spotify_assets/lib/audio_features/modes.py (k-means on the standardised valence, energy, acousticness and
danceability, weighted by streams; k in 2..6 by silhouette; a fixed seed)."""


def model(dbt, session):
    from datetime import datetime, timezone

    import pandas as pd

    from spotify_assets.lib.audio_features.modes import FEATURES, fit_modes

    dbt.config(materialized="table")
    features = dbt.ref("int_track_features_resolved").df()
    streams = dbt.ref("int_plays_localized").aggregate(
        "track_key, count(*) filter (where is_stream) as streams", "track_key").df()
    tracks = features.merge(streams, on="track_key")
    tracks = tracks[(tracks["streams"] > 0) & tracks[list(FEATURES)].notna().all(axis=1)].sort_values("track_key")
    modes = fit_modes(tracks[list(FEATURES)].to_numpy(dtype=float), tracks["streams"].to_numpy(dtype=float))
    if modes is None:
        return pd.DataFrame({"track_key": pd.Series(dtype="str"), "mode_id": pd.Series(dtype="int32"),
                             "distance_to_centre": pd.Series(dtype="float64"), "modes": pd.Series(dtype="int32"),
                             "silhouette": pd.Series(dtype="float64"),
                             "fitted_at": pd.Series(dtype="datetime64[us]")})
    return pd.DataFrame({"track_key": tracks["track_key"].to_numpy(), "mode_id": modes.labels,
                         "distance_to_centre": modes.distances, "modes": modes.k, "silhouette": modes.silhouette,
                         "fitted_at": datetime.now(timezone.utc).replace(tzinfo=None)})
