"""Listening modes (counting rules, section 11): k-means (scikit-learn) on the standardised audio features of the
streamed tracks, each weighted by its streams. k is the one of K_RANGE with the best silhouette (on at most
SILHOUETTE_SAMPLE tracks, a fixed sample); a fixed seed makes the modes the same for the same tracks. Modes are numbered
1, 2, ... by their centre's valence, highest first (then energy), so the ids do not depend on the order k-means found
them in. dbt's int_track_modes calls fit_modes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("valence", "energy", "acousticness", "danceability")
K_RANGE = range(2, 7)
SEED = 0
SILHOUETTE_SAMPLE = 3000


@dataclass(frozen=True)
class Modes:
    labels: list[int]  # each track's mode id, 1..k
    distances: list[float]  # each track's distance to its mode's centre, in standardised units
    k: int
    silhouette: float


def fit_modes(values: np.ndarray, weights: np.ndarray) -> Modes | None:
    """`values`: one row per track, the FEATURES in order; `weights`: its streams. None with too few tracks to choose
    k among K_RANGE."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if len(values) < max(K_RANGE) * 2:
        return None
    mean = np.average(values, axis=0, weights=weights)
    spread = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weights))
    spread = np.where(spread > 0, spread, 1.0)
    scaled = (values - mean) / spread
    best = None
    for k in K_RANGE:
        fitted = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(scaled, sample_weight=weights)
        score = float(silhouette_score(scaled, fitted.labels_, sample_size=min(SILHOUETTE_SAMPLE, len(scaled)),
                                       random_state=SEED))
        if best is None or score > best[0] + 1e-12:
            best = (score, k, fitted)
    score, k, fitted = best
    centres = fitted.cluster_centers_ * spread + mean
    order = sorted(range(k), key=lambda c: (-round(centres[c][0], 9), -round(centres[c][1], 9)))
    number = {cluster: position + 1 for position, cluster in enumerate(order)}
    distances = np.linalg.norm(scaled - fitted.cluster_centers_[fitted.labels_], axis=1)
    return Modes([number[label] for label in fitted.labels_], [float(d) for d in distances], k, score)
