"""When Spotify's view of you is pulled: once a day, today's partition, only with Spotify credentials."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from spotify_assets.defs.jobs import spotify_view_job
from spotify_assets.defs.spotify_api.resources import credentials_configured
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
    description="Daily: Spotify's own top artists and tracks (three time ranges) and your playlists, for today's "
    "partition (a missed day stays missing). Skips without Spotify credentials, once today is pulled, and while "
    "the authorization lacks the scopes (`spotify-assets auth` grants them).",
)
def spotify_view_schedule(context: ScheduleEvaluationContext, spotify_settings: SpotifySettings):
    return spotify_view_request(spotify_settings)


def spotify_view_request(settings: SpotifySettings) -> RunRequest | SkipReason:
    """Whether today's pull is due: the schedule and `spotify-assets enrich` both ask this."""
    if not credentials_configured():
        return SkipReason("Spotify's top lists and your playlists need Spotify credentials (see `spotify-assets auth`).")
    root, day = view_root(settings.landing_path), today(settings)
    missing = missing_scopes(root)
    if TOP_ITEMS_SCOPE in missing and PLAYLIST_SCOPES[0] in missing:
        return SkipReason(f"The authorization lacks {TOP_ITEMS_SCOPE} and {PLAYLIST_SCOPES[0]}: run "
                          "`spotify-assets auth` again and approve them.")
    top_done = TOP_ITEMS_SCOPE in missing or all(
        (top_items_folder(root, day) / f"{t}_{r}.json").exists() for t in ITEM_TYPES for r in TIME_RANGES)
    playlists_done = PLAYLIST_SCOPES[0] in missing or playlists_folder(root, day).is_dir()
    if top_done and playlists_done:
        return SkipReason(f"Spotify's view of you has been pulled today ({day}).")
    return RunRequest(partition_key=day.isoformat(), run_key=f"spotify_view-{day}-{int(top_done)}{int(playlists_done)}")
