"""`spotify-assets poll`: what the daemon does every 30 minutes, now: the poll schedule's request, the days sensor's
requests, then the warehouse update sensor's, each evaluated as the daemon evaluates it."""

from __future__ import annotations

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import follow, update_warehouse
from spotify_assets.settings import SpotifySettings


def describe_days(job_name: str, request) -> str:
    start, end = (request.tags["dagster/asset_partition_range_start"],
                  request.tags["dagster/asset_partition_range_end"])
    return f"loading the polled plays of {start}" + (f" to {end}" if end != start else "") + " (UTC)"


def poll(settings: SpotifySettings) -> None:
    from dagster import SkipReason

    from spotify_assets.defs.recently_played.assets import (
        EVERY_LISTENER_CHECK,
        GAP_CHECK,
        RESPONSES_KEY,
    )
    from spotify_assets.defs.recently_played.sensors import poll_request
    from spotify_assets.lib.listeners import DEFAULT_LISTENER

    request = poll_request(settings)  # the schedule's own question, asked first to say why nothing can run
    if isinstance(request, SkipReason):
        raise CommandFailed(request.skip_message[0].lower() + request.skip_message[1:])
    prepare_dbt_manifest(settings)
    polled = follow(settings, ["recently_played_poll_schedule"], "poll", once=True)
    if polled.failures:
        raise polled.failure()
    for result in polled.results:
        metadata = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                        if event.asset_key == RESPONSES_KEY)
        by_listener = metadata["plays_by_listener"].value  # the default listener's figures are the run's own
        received = by_listener.get(DEFAULT_LISTENER)
        if received:
            terminal.say(f"poll: {received} new play{'' if received == 1 else 's'}, the newest played "
                         f"{_when(metadata['newest_play'].value)}")
        elif received is not None and metadata["cursor_before"].value != "none":
            terminal.say(f"poll: no new plays since {_when(metadata['cursor_before'].value)}")
        elif received is not None:
            terminal.say("poll: no plays yet (Spotify lists none for this account)")
        others = {name: count for name, count in by_listener.items() if name != DEFAULT_LISTENER}
        if others:
            terminal.say(f"poll: {len(others)} other listener{'' if len(others) == 1 else 's'} polled, "
                         f"{sum(others.values())} new plays between them")
        for check in result.get_asset_check_evaluations():
            if check.check_name == GAP_CHECK and not check.passed:
                terminal.warn(f"warning: the check {GAP_CHECK} failed: {check.description} (Spotify keeps only the "
                              "last 50 plays)")
            if check.check_name == EVERY_LISTENER_CHECK and not check.passed:
                terminal.warn(f"warning: not every listener was polled: {check.description}")
    loaded = follow(settings, ["recently_played_days_sensor"], "poll", describe=describe_days)
    if loaded.failures:
        raise loaded.failure()
    update_warehouse(settings, "poll")


def _when(iso_time: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%d %H:%M UTC")
