"""`spotify-assets demo`: every feature on a synthetic listener, offline. The history is imported like an export, Last.fm
genres come from a simulated Last.fm on 127.0.0.1, the result is shown and checked against the generator's truth;
with `--live`, a simulated Spotify on 127.0.0.1 is polled as the schedule polls the real one."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.import_exports import import_paths
from spotify_assets.cli.runs import follow, update_warehouse
from spotify_assets.cli.summary import print_results, print_summary
from spotify_assets.settings import SpotifySettings


def run_demo(settings: SpotifySettings, plays: int, seed: int, live: bool = False) -> None:
    from spotify_assets.lib.exports.landing import content_hash, landed_exports
    from spotify_assets.lib.synthetic.exports import SyntheticHistory

    inbox = settings.inbox_path
    terminal.say(f"writing a synthetic history of {plays:,} plays (seed {seed}) into {inbox}")
    history = SyntheticHistory.generate(plays=plays, seed=seed)
    history.write_exports(inbox)
    history.write_ground_truth(settings.data_path / "synthetic" / "ground_truth.csv.gz")
    demo_exports = sorted(export.path for export in history.exports)
    outcome = import_paths(demo_exports, settings)
    if outcome.failure():
        raise outcome.failure()
    enriched = add_genres(settings, history) | add_spotify_details(settings, history) | add_audio_features(settings, history)
    if enriched:
        update_warehouse(settings, "demo")
    if not (outcome.changed or enriched):
        terminal.say("nothing new: no import, no enrichment, no build; the warehouse as it was:")
    print_summary(settings)
    demo_hashes = {content_hash(path) for path in demo_exports}
    others = sorted({landed.name for landed in landed_exports(settings.exports_landing_path)
                     if landed.export_hash not in demo_hashes})
    from spotify_assets.lib.recently_played.landing import RESPONSES_FOLDER

    polled = any((settings.landing_path / RESPONSES_FOLDER).glob("*.json"))
    if others or polled:
        held = f"other exports ({', '.join(others)})" if others else "plays polled from Spotify"
        terminal.say(f"\noracle: not compared, the warehouse also holds {held}; run the demo in a new data folder "
                     "(SPOTIFY_DATA_DIR) to check it against its ground truth")
    else:
        verify_against_truth(history, settings)
    if live:
        poll_live(settings, history)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """These variables set for the runs of this process meanwhile (the simulated services stand in for the real)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def add_genres(settings: SpotifySettings, history) -> bool:
    """The Last.fm enrichment, asked of a simulated Last.fm that knows the synthetic catalog: the sensor's own pass.
    Whether it ran; a demo run again asks nothing (every track and artist has been asked). The caller builds."""
    from spotify_assets.lib.simulated.lastfm import simulated_lastfm_for

    with simulated_lastfm_for(history) as lastfm, _environment({
            "LASTFM_API_KEY": lastfm.api_key, "LASTFM_API_BASE_URL": lastfm.base_url,
            "LASTFM_REQUESTS_PER_SECOND": "1000", "LASTFM_LOOKUPS_PER_RUN": "1000000"}):
        launched = follow(settings, ["lastfm_enrichment_sensor"], "demo", once=True,
                          describe=lambda job, request: f"asking a simulated Last.fm on {lastfm.base_url} for tags")
        if launched.failures:
            raise launched.failure()
        return bool(launched.results)


def add_audio_features(settings: SpotifySettings, history) -> bool:
    """A synthetic catalog file of audio features for the history's tracks (lib/synthetic/catalog_file.py), landed and
    read as `spotify-assets catalog import` does. Whether a file was read; a demo run again reads nothing. The caller
    builds."""
    from spotify_assets.lib.audio_features.catalog_file import land_catalog_file
    from spotify_assets.lib.synthetic.catalog_file import write_catalog_file

    path = settings.data_path / "synthetic" / "audio_features.csv"
    write_catalog_file(history, path)
    land_catalog_file(path, settings.shared_landing_path)
    launched = follow(settings, ["catalog_files_sensor"], "demo", once=True,
                      describe=lambda job, request: f"reading a synthetic catalog file of audio features ({path.name})")
    if launched.failures:
        raise launched.failure()
    return bool(launched.results)


def add_spotify_details(settings: SpotifySettings, history) -> bool:
    """The catalog enrichment (track lengths, release dates, ISRCs) and today's pull of Spotify's view (its top lists,
    the playlists), asked of a simulated Spotify that knows the synthetic catalog and listener: the daily schedules'
    own runs. Whether any ran; each schedule asks only while something is left (a track to look up, today's pull). The
    caller builds."""
    from spotify_assets.lib.simulated.spotify import DEMO_CREDENTIALS, simulated_catalog

    asks = {"catalog_enrichment_job": "track lengths and release dates",
            "spotify_view_job": "its top lists and the listener's playlists"}
    with simulated_catalog(history) as spotify, _environment({
            **DEMO_CREDENTIALS, "SPOTIFY_API_BASE_URL": spotify.base_url, "SPOTIFY_ACCOUNTS_BASE_URL": spotify.base_url,
            "SPOTIFY_CATALOG_REQUESTS_PER_SECOND": "1000", "SPOTIFY_CATALOG_LOOKUPS_PER_RUN": "1000000"}):
        launched = follow(settings, ["catalog_enrichment_schedule", "spotify_view_schedule"], "demo", once=True,
                          describe=lambda job, request: f"asking a simulated Spotify on {spotify.base_url} for {asks[job]}")
        if launched.failures:
            raise launched.failure()
        return bool(launched.results)


def poll_live(settings: SpotifySettings, history) -> None:
    """Polls of a simulated Spotify whose listener goes on listening, each what the schedule does every 30 minutes:
    the poll, the days it touched, the warehouse update. Its clock runs ahead of the real one between polls."""
    from spotify_assets.cli.poll import poll
    from spotify_assets.lib.simulated.spotify import (
        DEMO_CREDENTIALS,
        LIVE_POLLS,
        simulated_listener,
    )

    spotify, clocks = simulated_listener(history, int(time.time() * 1000), seed=len(history.plays))
    with spotify, _environment({**DEMO_CREDENTIALS, "SPOTIFY_API_BASE_URL": spotify.base_url,
                                "SPOTIFY_ACCOUNTS_BASE_URL": spotify.base_url}):
        terminal.say(f"\nlive: {len(clocks)} polls of a simulated Spotify on {spotify.base_url}, as the schedule polls "
                     "yours every 30 minutes (its clock runs ahead: hours pass between polls)")
        for number, (clock, (_, played)) in enumerate(zip(clocks, LIVE_POLLS), start=1):
            spotify.now_ms = clock
            since = " since the poll before" if number > 1 else ""
            lost = "; more than the 50 Spotify keeps, so the check no_plays_lost fails" if played > 50 else ""
            terminal.say(f"\npoll {number} of {len(clocks)}, "
                         f"{'now' if clock >= clocks[-1] else f'{(clocks[-1] - clock) // 3_600_000} hours ago'} "
                         f"(the listener played {played} tracks{since}{lost}):")
            poll(settings)
    print_results(settings)
    terminal.say("\nthe polls are in the Dagster UI (`make ui`): the poll asset's materializations, the day partitions "
                 "of raw/recently_played_items, and the check no_plays_lost; `spotify-assets auth` connects your own "
                 "Spotify")


def verify_against_truth(history, settings: SpotifySettings) -> None:
    """The demo checks itself: the published marts against figures computed from the true plays."""
    from spotify_assets.lib.publishing.publish import connect_published
    from spotify_assets.lib.simulated.spotify import simulated_catalog
    from spotify_assets.lib.synthetic.catalog_file import catalog_rows
    from spotify_assets.lib.synthetic.oracle import Oracle, compare_with_marts

    connection = connect_published(settings.published_marts_path)
    try:
        compared, mismatches = compare_with_marts(Oracle(history, settings.timezone_name, catalog_known=True), connection,
                                                  spotify=simulated_catalog(history), catalog_rows=catalog_rows(history))
    finally:
        connection.close()
    if mismatches:
        print("\n".join(mismatches[:20]), file=sys.stderr)
        raise CommandFailed(f"{len(mismatches)} of {compared} figures differ from the synthetic ground truth")
    terminal.say(f"\noracle: all {compared:,} figures (totals, 168 heatmap cells, every calendar day, months, "
                 "top 10 lists by streams and by minutes, skips, streaks, completion, sessions, discovery, your years, eras, "
                 "weekends, hour drilldowns, Spotify's ranks beside yours, playlists, audio features and moods) match the "
                 "synthetic ground truth")
