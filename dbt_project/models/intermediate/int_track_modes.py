"""Listening modes (counting rules, section 11), each listener's own: its streamed tracks with features, each with its mode from
spotify_assets/lib/audio_features/modes.py (k-means on the standardised valence, energy, acousticness and
danceability, weighted by streams; k in 2..6 by silhouette; a fixed seed)."""


def model(dbt, session):
    from datetime import datetime, timezone

    import pandas as pd

    from spotify_assets.lib.audio_features.modes import FEATURES, fit_modes

    dbt.config(materialized="table")
    features = dbt.ref("int_track_features_resolved").df()
    streams = dbt.ref("int_plays_localized").aggregate(
        "listener, track_key, count(*) filter (where is_stream) as streams", "listener, track_key").df()
    tracks = features.merge(streams, on=["listener", "track_key"])
    tracks = tracks[(tracks["streams"] > 0) & tracks[list(FEATURES)].notna().all(axis=1)]
    fitted_at = datetime.now(timezone.utc).replace(tzinfo=None)
    found = []
    # Each listener's own modes, from its own streams only.
    for listener, own in tracks.groupby("listener", sort=True):
        own = own.sort_values("track_key")
        modes = fit_modes(own[list(FEATURES)].to_numpy(dtype=float), own["streams"].to_numpy(dtype=float))
        if modes is not None:
            found.append(pd.DataFrame({"listener": listener, "track_key": own["track_key"].to_numpy(),
                                       "mode_id": modes.labels, "distance_to_centre": modes.distances,
                                       "modes": modes.k, "silhouette": modes.silhouette, "fitted_at": fitted_at}))
    if not found:
        return pd.DataFrame({"listener": pd.Series(dtype="str"), "track_key": pd.Series(dtype="str"),
                             "mode_id": pd.Series(dtype="int32"), "distance_to_centre": pd.Series(dtype="float64"),
                             "modes": pd.Series(dtype="int32"), "silhouette": pd.Series(dtype="float64"),
                             "fitted_at": pd.Series(dtype="datetime64[us]")})
    return pd.concat(found, ignore_index=True)
