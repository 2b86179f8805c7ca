"""The live path end to end against the fake Spotify: polls, faults, an outage, and overlap with exports."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from dagster import DagsterInstance, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import import_spotify_export
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.publishing.assets import published_marts_database
from spotify_assets.defs.recently_played.assets import (
    GAP_CHECK,
    recently_played_items,
    recently_played_responses,
)
from spotify_assets.defs.recently_played.sensors import days_request
from spotify_assets.defs.spotify_api.resources import SpotifyApiResource
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.recently_played.landing import cursor_ms, landed_responses
from spotify_assets.lib.simulated.spotify import Fault, SimulatedSpotify, track_object
from spotify_assets.lib.synthetic.exports import SyntheticHistory
from spotify_assets.lib.warehouse import warehouse_connection

pytestmark = pytest.mark.slow


def epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def api_track(play) -> dict:
    track = play.item
    return track_object(play.uri.rsplit(":", 1)[-1], track.name, [track.artist], track.album, track.duration_ms, track.isrc)


class LivePipeline:
    def __init__(self, fake: SimulatedSpotify, settings):
        self.fake, self.settings = fake, settings
        self.instance = DagsterInstance.ephemeral()
        self.resources = {
            "spotify_settings": settings,
            "spotify_api": SpotifyApiResource(client_id="fake-client-id", client_secret="fake-client-secret",
                                              refresh_token="fake-refresh-token", api_base_url=fake.base_url,
                                              accounts_base_url=fake.base_url, backoff_seconds=0.01, timeout_seconds=0.5),
            "dbt": defs.resources["dbt"],
        }

    def poll(self, at_ms: int):
        """One poll at simulated time `at_ms`, then the day partitions it touched (as the sensor does)."""
        self.fake.now_ms = at_ms
        result = materialize([recently_played_responses], resources=self.resources, instance=self.instance,
                             raise_on_error=False)
        if not result.success:
            return result
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        days = list(metadata["touched_days"].value)
        if days:
            items = materialize([recently_played_items], resources=self.resources, instance=self.instance,
                                tags=days_request(days, "test").tags)
            assert items.success
        return result

    def build(self):
        assert materialize([warehouse_models, published_marts_database], resources=self.resources,
                           instance=self.instance).success

    def fct(self, sql: str):
        with warehouse_connection(self.settings, read_only=True, with_marts=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def history():
    return SyntheticHistory.generate(plays=12_000, seed=3)


def _week(history, start: datetime, days: int = 7):
    end = start + timedelta(days=days)
    return [p for p in history.plays if p.kind == "music" and p.ms_played > 30_000 and start <= p.ended_at < end]


def test_a_simulated_week_with_faults_loses_and_doubles_nothing(history, settings):
    start = datetime(2025, 3, 24)  # the week European clocks change
    week = _week(history, start)
    assert len(week) > 100
    with SimulatedSpotify() as fake:
        for play in week:
            fake.add_play(epoch_ms(play.ended_at), api_track(play), {"type": "playlist", "uri": "spotify:playlist:x"})
        live = LivePipeline(fake, settings)
        faults = {2: [Fault(status=429, headers={"retry-after": "0"})], 4: [Fault(status=500), Fault(status=503)],
                  6: [Fault(expire_tokens=True)], 8: [Fault(delay_seconds=1.0)], 10: [Fault(status=200, body=b"{oops")],
                  12: [Fault(status=429, headers={"Retry-After": "1"})]}
        moment, poll_number, failed = start, 0, 0
        while moment < start + timedelta(days=7, hours=6):
            fake.inject("recently-played", *faults.get(poll_number, []))
            if poll_number == 14:  # Spotify down for a whole poll: the run fails, nothing lands, the next recovers
                fake.inject("recently-played", *[Fault(status=502)] * 6)
            result = live.poll(epoch_ms(moment))
            failed += not result.success
            poll_number += 1
            moment += timedelta(hours=3, minutes=17 * (poll_number % 4))  # irregular, always < 50 plays apart
        assert failed == 1
        landed = [(item["played_at"], item["track"]["id"])
                  for response in landed_responses(settings.landing_path / "recently_played")
                  for item in json.loads(response.path.read_bytes())["items"]]
        assert len(landed) == len(set(landed)) == len(week)  # every play landed once, none twice across polls
        live.build()
        # Two devices can end plays at the same moment: a play is its moment and its track.
        assert live.fct("SELECT count(*), count(DISTINCT (played_at_utc, track_key)) FROM marts.fct_plays") == [
            (len(week), len(week))]
        assert live.fct("SELECT DISTINCT source, is_stream FROM marts.fct_plays") == [("api", True)]
        expected = sorted(play.ended_at.replace(microsecond=play.ended_at.microsecond // 1000 * 1000) for play in week)
        assert [t for (t,) in live.fct("SELECT played_at_utc FROM marts.fct_plays ORDER BY 1")] == expected
        # Rebuilding the raw days from landing changes nothing: the pipeline is a function of landing.
        days = sorted({p.ended_at.date().isoformat() for p in week})
        assert materialize([recently_played_items], resources=live.resources, instance=live.instance,
                           tags=days_request(days, "test").tags).success
        assert live.fct("SELECT count(*) FROM raw.recently_played_items") == [(len(week),)]


def test_an_outage_longer_than_50_plays_fails_the_gap_check_and_names_the_window(history, settings):
    start = datetime(2025, 5, 5)
    plays = _week(history, start, days=14)
    with SimulatedSpotify() as fake:
        for play in plays:
            fake.add_play(epoch_ms(play.ended_at), api_track(play))
        live = LivePipeline(fake, settings)
        first_poll = epoch_ms(plays[20].ended_at) + 1000
        assert live.poll(first_poll).get_asset_check_evaluations()[0].passed
        cursor = cursor_ms(landed_responses(settings.landing_path / "recently_played"))
        # The listener's machine is off for days: 80 more plays happen before the next poll.
        result = live.poll(epoch_ms(plays[100].ended_at) + 1000)
        (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == GAP_CHECK]
        assert not check.passed and check.severity.value == "ERROR"
        lost_after = datetime.fromtimestamp(cursor / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        oldest_kept = plays[51].ended_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        assert check.description == f"plays between {lost_after} and {oldest_kept} were probably lost"
        assert json.loads(json.dumps(check.metadata["windows"].value))[0]["after"].startswith(
            plays[20].ended_at.strftime("%Y-%m-%dT%H:%M:%S"))
        # The next regular poll joins up again, but the window stays reported for a week.
        later = live.poll(epoch_ms(plays[110].ended_at) + 1000)
        assert not later.get_asset_check_evaluations()[0].passed


def test_api_plays_overlapping_an_extended_export_count_once(history, settings, tmp_path):
    start = datetime(2025, 6, 2)
    plays = _week(history, start, days=3)
    with SimulatedSpotify() as fake:
        for index, play in enumerate(plays):
            # Reports disagree whether played_at marks the start or the end of a play: use both.
            played_at = play.ended_at - timedelta(milliseconds=play.ms_played) if index % 2 else play.ended_at
            fake.add_play(epoch_ms(played_at), api_track(play))
        live = LivePipeline(fake, settings)
        live.poll(epoch_ms(start + timedelta(days=1)))
        live.poll(epoch_ms(start + timedelta(days=2)))
        live.poll(epoch_ms(start + timedelta(days=3, hours=1)))
    export = [{"ts": p.ended_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "ms_played": p.ms_played,
               "master_metadata_track_name": p.item.name, "master_metadata_album_artist_name": p.item.artist,
               "master_metadata_album_album_name": p.item.album, "spotify_track_uri": p.uri,
               "skipped": p.skipped, "shuffle": p.shuffle, "platform": "android"} for p in plays]
    path = tmp_path / "Streaming_History_Audio_2025_0.json"
    path.write_text(json.dumps(export))
    landed = receive_export(path, settings.exports_landing_path)
    live.instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
    assert materialize([import_spotify_export], partition_key=landed.export_hash, resources=live.resources,
                       instance=live.instance).success
    live.build()
    assert live.fct("SELECT count(*) FROM marts.fct_plays") == [(len(plays),)]
    assert live.fct("SELECT DISTINCT source, seen_in_sources, is_ms_played_estimated FROM marts.fct_plays") == [
        ("api", ["api", "extended"], False)]
    # Identity and time from the API, listening details from the export.
    assert live.fct("SELECT sum(ms_played) FROM marts.fct_plays") == [(sum(p.ms_played for p in plays),)]
    assert live.fct("SELECT count(*) FROM marts.bridge_track_artist WHERE artist_uri IS NOT NULL")[0][0] > 0


def test_the_poll_freshness_passes_after_a_poll_warns_after_an_hour_fails_after_two_and_launches_no_run(settings):
    """The daemon's freshness evaluation, one tick at a time, on a real instance. Dagster offers no public way to run
    one tick, so this test (only) uses its daemon and test utilities."""
    import time

    from dagster import instance_for_test
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import freeze_time
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.freshness import FreshnessDaemon

    from spotify_assets.defs.recently_played.assets import RESPONSES_KEY

    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="spotify_assets.definitions", attribute="defs"))
    with SimulatedSpotify() as fake, instance_for_test() as instance, \
            WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
        def evaluate() -> str:
            list(FreshnessDaemon().run_iteration(workspace))
            return instance.get_freshness_state_records([RESPONSES_KEY])[RESPONSES_KEY].freshness_state.value

        assert evaluate() == "UNKNOWN"  # never polled (no credentials yet): no run, no warning
        live = LivePipeline(fake, settings)
        fake.now_ms = int(time.time() * 1000)
        assert materialize([recently_played_responses], resources=live.resources, instance=instance).success
        runs = len(instance.get_runs())
        assert evaluate() == "PASS"
        with freeze_time(time.time() + 1.5 * 3600):
            assert evaluate() == "WARN"
        with freeze_time(time.time() + 3 * 3600):
            assert evaluate() == "FAIL"
        assert len(instance.get_runs()) == runs  # evaluating freshness launched no run


def test_the_days_sensor_requests_one_run_for_exactly_the_days_a_poll_touched(history, settings):
    from dagster import build_sensor_context

    from spotify_assets.defs.recently_played.sensors import recently_played_days_sensor

    midnight = datetime(2025, 7, 1)
    plays = [p for p in history.plays if p.kind == "music"][:20]
    with SimulatedSpotify() as fake:
        for index, play in enumerate(plays):  # a session from 23:10 to 00:45 UTC
            fake.add_play(epoch_ms(midnight - timedelta(minutes=50) + timedelta(minutes=5 * index)), api_track(play))
        live = LivePipeline(fake, settings)
        fake.now_ms = epoch_ms(midnight + timedelta(hours=7))
        assert materialize([recently_played_responses], resources=live.resources, instance=live.instance).success
    context = build_sensor_context(instance=live.instance, definitions=defs)
    (request,) = _run_requests(recently_played_days_sensor(context))
    assert request.tags["dagster/asset_partition_range_start"] == "2025-06-30"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-07-01"
    # Asked again until the days are loaded; then the poll is done with (the instance is the sensor's only state).
    assert _run_requests(recently_played_days_sensor(build_sensor_context(instance=live.instance, definitions=defs))) \
        == [request]
    assert materialize([recently_played_items], resources=live.resources, instance=live.instance,
                       tags=request.tags).success
    assert _run_requests(recently_played_days_sensor(build_sensor_context(instance=live.instance, definitions=defs))) \
        == []


def test_polls_between_two_ticks_of_the_days_sensor_each_get_their_days_loaded(history, settings):
    """A poll with new plays, then one without, before the sensor ticks (a busy daemon, a short cron): the first
    poll's days are still loaded (following only the newest poll lost them)."""
    from dagster import build_sensor_context

    from spotify_assets.defs.recently_played.sensors import recently_played_days_sensor

    day = datetime(2025, 7, 1, 9)
    plays = [p for p in history.plays if p.kind == "music"][:5]
    with SimulatedSpotify() as fake:
        for index, play in enumerate(plays):
            fake.add_play(epoch_ms(day + timedelta(minutes=4 * index)), api_track(play))
        live = LivePipeline(fake, settings)
        assert _run_requests(recently_played_days_sensor(build_sensor_context(instance=live.instance,
                                                                               definitions=defs))) == []  # no poll yet
        for hours_later in (2, 3):  # the second poll finds nothing new
            fake.now_ms = epoch_ms(day + timedelta(hours=hours_later))
            assert materialize([recently_played_responses], resources=live.resources, instance=live.instance).success
    context = build_sensor_context(instance=live.instance, definitions=defs)
    (request,) = _run_requests(recently_played_days_sensor(context))
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) \
        == ("2025-07-01", "2025-07-01")


def _run_requests(result) -> list:
    from dagster import RunRequest

    return [request for request in (result if isinstance(result, list) else [result]) if isinstance(request, RunRequest)]
