"""`spotify-assets poll`: one poll and what follows it, the very runs the daemon launches after the schedule's poll:
the schedule's request, the days sensor's request, then the warehouse update rule."""

from __future__ import annotations

import sys

from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import (
    CommandFailed,
    failure_reason,
    run_job,
    update_warehouse,
)
from spotify_assets.settings import SpotifySettings


def poll(settings: SpotifySettings) -> None:
    from dagster import SkipReason

    from spotify_assets.defs.jobs import (
        poll_recently_played_job,
        recently_played_items_job,
    )
    from spotify_assets.defs.recently_played.assets import GAP_CHECK, RESPONSES_KEY
    from spotify_assets.defs.recently_played.sensors import days_request, poll_request

    request = poll_request()  # what the schedule asks
    if isinstance(request, SkipReason):
        raise CommandFailed(request.skip_message[0].lower() + request.skip_message[1:])
    prepare_dbt_manifest(settings)
    result = run_job(settings, poll_recently_played_job.name, tags=request.tags)
    if not result.success:
        raise CommandFailed(f"the poll failed: {failure_reason(result)}")
    metadata = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                    if e.asset_key == RESPONSES_KEY)
    print(f"poll: {metadata['plays_received'].value} new plays, newest {metadata['newest_play'].value}", flush=True)
    for check in result.get_asset_check_evaluations():
        if check.check_name == GAP_CHECK and not check.passed:
            print(f"warning: {check.description}", file=sys.stderr)
    days = days_request(list(metadata["touched_days"].value), result.run_id)  # what the days sensor asks
    if isinstance(days, SkipReason):
        print("nothing new to build", flush=True)
        return
    items = run_job(settings, recently_played_items_job.name, tags=days.tags)
    if not items.success:
        raise CommandFailed(f"loading the polled plays failed: {failure_reason(items)}")
    update_warehouse(settings)  # what the warehouse update sensor asks
