"""`spotify-assets demo`: a synthetic history imported like an export, built, shown, and checked against its truth."""

from __future__ import annotations

import sys

from spotify_assets.cli.import_exports import import_paths
from spotify_assets.cli.runs import CommandFailed
from spotify_assets.cli.summary import print_summary
from spotify_assets.settings import SpotifySettings


def run_demo(settings: SpotifySettings, plays: int, seed: int, live_polls: int = 0) -> None:
    from spotify_assets.lib.exports.landing import content_hash, landed_exports
    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    inbox = settings.inbox_path
    print(f"writing a synthetic history of {plays:,} plays (seed {seed}) into {inbox}", flush=True)
    history = SyntheticHistory.generate(plays=plays, seed=seed)
    history.write_exports(inbox)
    history.write_ground_truth(settings.data_path / "synthetic" / "ground_truth.csv.gz")
    demo_exports = sorted(export.path for export in history.exports)
    outcome = import_paths(demo_exports, settings)
    if outcome.failure():
        raise outcome.failure()
    print_summary(settings)
    demo_hashes = {content_hash(path) for path in demo_exports}
    others = sorted({landed.name for landed in landed_exports(settings.exports_landing_path)
                     if landed.export_hash not in demo_hashes})
    if others:
        print(f"\noracle: not compared, the warehouse also holds other exports ({', '.join(others)}); "
              "run the demo in a new data directory (SPOTIFY_DATA_DIR) to check it against its ground truth")
        return
    verify_against_truth(history, settings)


def verify_against_truth(history, settings: SpotifySettings) -> None:
    """The demo checks itself: the published marts against figures computed from the true plays."""
    from spotify_assets.lib.publishing.publish import connect_published
    from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts

    connection = connect_published(settings.published_marts_path)
    try:
        compared, mismatches = compare_with_marts(Oracle(history, settings.timezone_name), connection)
    finally:
        connection.close()
    if mismatches:
        print("\n".join(mismatches[:20]), file=sys.stderr)
        raise CommandFailed(f"{len(mismatches)} of {compared} figures differ from the synthetic ground truth")
    print(f"\noracle: all {compared:,} figures (totals, 168 heatmap cells, every calendar day, months, "
          "top 10 lists, hour drilldowns) match the synthetic ground truth")
