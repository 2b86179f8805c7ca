"""When Spotify's view of each listener is pulled: once a day, today's partition, for the listeners who authorized."""

import hashlib

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from spotify_assets.defs.jobs import spotify_view_job
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.spotify_view.assets import today
from spotify_assets.lib.spotify_api.client import PLAYLIST_SCOPES, TOP_ITEMS_SCOPE
from spotify_assets.lib.spotify_view.landing import (
    ITEM_TYPES,
    TIME_RANGES,
    missing_scopes,
    playlists_folder,
    top_items_folder,
    view_root,
)
from spotify_assets.settings import SpotifySettings


@schedule(
    cron_schedule="45 4 * * *",
    job=spotify_view_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Daily: Spotify's own top artists and tracks (three time ranges) and the playlists of every listener "
    "who authorized, for today's partition (a missed day stays missing). Skips while nobody has authorized, once "
    "today is pulled, and while the authorizations lack the scopes (`spotify-assets auth` grants them).",
)
def spotify_view_schedule(context: ScheduleEvaluationContext, spotify_settings: SpotifySettings):
    return spotify_view_request(spotify_settings)


def spotify_view_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether today's pull is due for anybody: the schedule and `spotify-assets enrich` both ask this."""
    authorized, _ = SpotifyApiResource().authorized_listeners(settings)
    if not authorized:
        return SkipReason("Spotify's top lists and your playlists need a listener's Spotify authorization (see "
                          "`spotify-assets auth`).")
    due, lacking = [], 0  # listeners with a pull left today, and what it is; listeners lacking both scopes
    for authorization in authorized:
        listener = settings.for_listener(authorization.listener)
        root, day = view_root(listener.landing_path), today(listener)
        missing = missing_scopes(root)
        lacking += TOP_ITEMS_SCOPE in missing and PLAYLIST_SCOPES[0] in missing
        top_done = TOP_ITEMS_SCOPE in missing or all(
            (top_items_folder(root, day) / f"{t}_{r}.json").exists() for t in ITEM_TYPES for r in TIME_RANGES)
        playlists_done = PLAYLIST_SCOPES[0] in missing or playlists_folder(root, day).is_dir()
        if not (top_done and playlists_done):
            due.append(f"{authorization.listener}:{int(top_done)}{int(playlists_done)}")
    day = today(settings)
    if lacking == len(authorized):
        return SkipReason(f"The authorization lacks {TOP_ITEMS_SCOPE} and {PLAYLIST_SCOPES[0]}: run "
                          "`spotify-assets auth` again and approve them.")
    if not due:
        return SkipReason(f"Spotify's view of you has been pulled today ({day}).")
    # One run for each state of the day's pulls: a pull that failed halfway is asked again once, not at every tick.
    state = hashlib.sha256(" ".join(due).encode()).hexdigest()[:16]
    return RunRequest(partition_key=day.isoformat(), run_key=f"spotify_view-{day}-{state}")
