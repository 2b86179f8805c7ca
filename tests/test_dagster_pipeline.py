"""Real Dagster materializations, a real sensor evaluation and a real dbt build on a temporary data dir."""

import json
import os
import shutil
import time

import pytest
from conftest import expected_raw_rows, raw_counts
from dagster import DagsterInstance, build_sensor_context, materialize

from spotify_assets.definitions import defs
from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY, import_spotify_export
from spotify_assets.defs.exports.sensors import (
    landed_exports_sensor,
    spotify_inbox_sensor,
)
from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.defs.transformations.assets import warehouse_models
from spotify_assets.lib.exports.landing import receive_export
from spotify_assets.lib.warehouse import warehouse_connection


def _age(path, seconds=60):
    past = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (past, past))


def _import_requests(instance, settings):
    """What the landed-exports sensor asks for now (the partitions it adds are added, as the daemon does)."""
    result = landed_exports_sensor(build_sensor_context(instance=instance, resources={"spotify_settings": settings}))
    if not hasattr(result, "run_requests"):
        return []
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result.run_requests


def _landed(settings) -> list[str]:
    return sorted(p.name for p in settings.exports_landing_path.iterdir()) if settings.exports_landing_path.exists() else []


def test_sensors_land_new_exports_add_partitions_and_request_one_import_each(small_history, settings):
    instance = DagsterInstance.ephemeral()
    inbox = settings.inbox_path
    inbox.mkdir(parents=True)
    for export in small_history.exports[:2] + small_history.exports[3:]:  # two zips and the folder
        target = inbox / export.path.name
        shutil.copytree(export.path, target) if export.path.is_dir() else shutil.copyfile(export.path, target)
        _age(target)
    (inbox / "downloading.zip.crdownload").write_bytes(b"partial")

    context = build_sensor_context(instance=instance, resources={"spotify_settings": settings})
    result = spotify_inbox_sensor(context)
    hashes = _landed(settings)
    assert len(hashes) == 3 and result.run_requests == []  # the inbox sensor lands; the other one imports
    requests = _import_requests(instance, settings)
    assert sorted(r.partition_key for r in requests) == hashes == sorted(r.run_key for r in requests)
    assert sorted(instance.get_dynamic_partitions(spotify_export_partitions.name)) == hashes

    # The next tick with an unchanged inbox lands nothing and hashes nothing.
    again = spotify_inbox_sensor(build_sensor_context(instance=instance, cursor=result.cursor,
                                                      resources={"spotify_settings": settings}))
    assert again.skip_reason is not None and _landed(settings) == hashes

    # A file still being written waits for the next tick.
    fresh = inbox / small_history.exports[2].path.name
    shutil.copyfile(small_history.exports[2].path, fresh)
    waiting = spotify_inbox_sensor(build_sensor_context(instance=instance, cursor=result.cursor,
                                                        resources={"spotify_settings": settings}))
    assert _landed(settings) == hashes
    _age(fresh)
    spotify_inbox_sensor(build_sensor_context(instance=instance, cursor=waiting.cursor,
                                              resources={"spotify_settings": settings}))
    assert len(_landed(settings)) == 4


def test_odd_inbox_entries_are_skipped_once_and_the_rest_is_imported(small_history, settings):
    """A dangling link, a pipe or a file deleted meanwhile made every tick fail, so nothing else was imported."""
    instance = DagsterInstance.ephemeral()
    inbox = settings.inbox_path
    inbox.mkdir(parents=True)
    good = inbox / small_history.exports[0].path.name
    shutil.copyfile(small_history.exports[0].path, good)
    _age(good)
    (inbox / "gone.zip").symlink_to(inbox / "deleted-meanwhile.zip")
    os.mkfifo(inbox / "stream.json")
    context = build_sensor_context(instance=instance, resources={"spotify_settings": settings})
    result = spotify_inbox_sensor(context)
    assert [r.tags["spotify/export"] for r in _import_requests(instance, settings)] == [good.name]
    skipped = {name: entry[2] for name, entry in json.loads(result.cursor).items() if entry[0] == -1}
    assert sorted(skipped) == ["gone.zip", "stream.json"] and all("not a file or a folder" in r for r in skipped.values())


def test_a_copy_still_in_progress_waits_and_a_stalled_one_lands_once(small_history, settings):
    """A stalled copy landed twice, once as a partial export."""
    instance = DagsterInstance.ephemeral()
    inbox = settings.inbox_path
    inbox.mkdir(parents=True)
    copying = inbox / "my_spotify_data.zip"
    data = small_history.exports[0].path.read_bytes()
    copying.write_bytes(data[: len(data) // 2])  # the central directory comes last: not there yet
    _age(copying, seconds=60)  # settled for the 10 s rule, but it looks unfinished
    context = build_sensor_context(instance=instance, resources={"spotify_settings": settings})
    waiting = spotify_inbox_sensor(context)
    assert not settings.exports_landing_path.exists()
    copying.write_bytes(data)  # the copy finishes
    _age(copying, seconds=60)
    done = spotify_inbox_sensor(build_sensor_context(instance=instance, cursor=waiting.cursor,
                                                     resources={"spotify_settings": settings}))
    assert len(_import_requests(instance, settings)) == 1 and len(_landed(settings)) == 1
    stalled = inbox / "stalled.zip"
    stalled.write_bytes(data[: len(data) // 2])
    _age(stalled, seconds=16 * 60)  # unchanged for longer than STALLED_SECONDS: what it holds is imported
    spotify_inbox_sensor(build_sensor_context(instance=instance, cursor=done.cursor,
                                              resources={"spotify_settings": settings}))
    assert sorted(r.tags["spotify/export"] for r in _import_requests(instance, settings)) == [
        "my_spotify_data.zip", "stalled.zip"]


def test_a_failed_import_is_tried_again_up_to_the_limit_and_never_holds_up_another(small_history, settings):
    """An inbox import that failed (the warehouse was busy, say) was never retried; and an export that kept failing
    was retried first by every command, which then never imported the next."""
    from dagster import DagsterRunStatus

    from spotify_assets.defs.exports.sensors import IMPORT_ATTEMPTS
    from spotify_assets.instance.recovery import ENDED_TAG, INTERRUPTED, REQUEST_TAG

    instance = DagsterInstance.ephemeral()
    failing = receive_export(small_history.exports[0].path, settings.exports_landing_path)
    (request,) = _import_requests(instance, settings)
    job = defs.resolve_job_def("import_spotify_export_job")
    for attempt in range(2, IMPORT_ATTEMPTS + 1):
        instance.create_run_for_job(job_def=job, status=DagsterRunStatus.FAILURE,
                                    tags={"dagster/partition": failing.export_hash})
        assert [(r.partition_key, r.run_key) for r in _import_requests(instance, settings)] == [
            (failing.export_hash, f"{failing.export_hash}:attempt-{attempt}")]
    instance.create_run_for_job(job_def=job, status=DagsterRunStatus.FAILURE,
                                tags={"dagster/partition": failing.export_hash})
    assert _import_requests(instance, settings) == []  # given up: `import --force` tries again
    skipped = landed_exports_sensor(build_sensor_context(instance=instance, resources={"spotify_settings": settings}))
    assert f"{failing.name}: its import failed {IMPORT_ATTEMPTS} times" in skipped.skip_message
    # Another export goes on regardless, and an interrupted run (Ctrl-C) is no verdict on it.
    other = receive_export(small_history.exports[1].path, settings.exports_landing_path)
    instance.create_run_for_job(job_def=job, status=DagsterRunStatus.FAILURE, tags={
        "dagster/partition": other.export_hash, ENDED_TAG: INTERRUPTED, REQUEST_TAG: other.export_hash})
    assert [(r.partition_key, r.run_key) for r in _import_requests(instance, settings)] == [
        (other.export_hash, f"{other.export_hash}:again-1")]  # a new key: the daemon launches it again too


def test_exports_imported_by_an_older_parser_are_imported_again_once(small_history, settings, monkeypatch):
    """A newer parser reads more of an export (renamed history files, say): the landed-exports sensor imports it
    again."""
    import spotify_assets.defs.exports.assets as import_assets
    from spotify_assets.defs.exports.assets import outdated_imports
    from spotify_assets.lib.raw_tables import PARSER_VERSION

    instance = DagsterInstance.ephemeral()
    inbox = settings.inbox_path
    inbox.mkdir(parents=True)
    target = inbox / small_history.exports[0].path.name
    shutil.copyfile(small_history.exports[0].path, target)
    _age(target)
    landed = receive_export(target, settings.exports_landing_path)
    instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
    monkeypatch.setattr(import_assets, "PARSER_VERSION", PARSER_VERSION - 1)  # imported by the previous version
    assert materialize([import_spotify_export], partition_key=landed.export_hash, resources={"spotify_settings": settings},
                       instance=instance).success
    monkeypatch.undo()
    assert outdated_imports(instance) == [landed.export_hash]
    assert [(r.partition_key, r.run_key) for r in _import_requests(instance, settings)] == [
        (landed.export_hash, f"{landed.export_hash}:parser-{PARSER_VERSION}")]
    assert materialize([import_spotify_export], partition_key=landed.export_hash, resources={"spotify_settings": settings},
                       instance=instance).success
    assert outdated_imports(instance) == []


@pytest.mark.slow
def test_import_and_build_end_to_end_matches_the_generator_and_is_idempotent(small_history, settings):
    instance = DagsterInstance.ephemeral()
    resources = {"spotify_settings": settings, "dbt": defs.resources["dbt"]}
    hashes = []
    for export in small_history.exports:
        landed = receive_export(export.path, settings.exports_landing_path)
        instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
        hashes.append(landed.export_hash)
        result = materialize([import_spotify_export], partition_key=landed.export_hash, resources=resources, instance=instance)
        assert result.success
        metadata = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                        if e.asset_key == EXPORT_FILES_KEY)
        assert metadata["records_accepted"].value == sum(export.raw_rows.values())
        assert metadata["records_without_content"].value == export.without_content
        assert metadata["records_quarantined"].value == 0
        assert metadata["files_ignored"].value == (1 if export.spec.source == "extended" else 3)
        (check,) = result.get_asset_check_evaluations()
        assert check.passed

    build = materialize([warehouse_models], resources=resources, instance=instance)
    assert build.success
    assert build.get_asset_check_evaluations() and all(c.passed for c in build.get_asset_check_evaluations())
    expected = dict(expected_raw_rows(small_history))
    with warehouse_connection(settings, read_only=True) as connection:
        counts = raw_counts(connection)
        assert counts == {name: expected.get(name, 0) for name in counts}
        for table, count in counts.items():
            assert connection.execute(f"SELECT count(*) FROM staging.stg_spotify_export__{table}").fetchall()[0][0] == count

    for export_hash in hashes:  # importing everything again changes nothing
        again = materialize([import_spotify_export], partition_key=export_hash, resources=resources, instance=instance)
        metadata = next(e.materialization.metadata for e in again.get_asset_materialization_events()
                        if e.asset_key == EXPORT_FILES_KEY)
        assert metadata["already_imported"].value is True
    with warehouse_connection(settings, read_only=True) as connection:
        assert raw_counts(connection) == counts


@pytest.mark.slow
def test_quarantine_counts_reach_metadata_and_the_check_warns(settings, tmp_path):
    import json

    from test_parsing import OLD_EXTENDED_MUSIC

    export = tmp_path / "endsong_0.json"
    export.write_text(json.dumps([OLD_EXTENDED_MUSIC, dict(OLD_EXTENDED_MUSIC, ms_played="x")])[:-30])
    instance = DagsterInstance.ephemeral()
    landed = receive_export(export, settings.exports_landing_path)
    instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
    result = materialize([import_spotify_export], partition_key=landed.export_hash,
                         resources={"spotify_settings": settings}, instance=instance)
    assert result.success  # bad input never fails the run: it is reported
    metadata = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                    if e.asset_key == EXPORT_FILES_KEY)
    assert metadata["records_accepted"].value == 1 and metadata["files_partly_read"].value == 1
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity.value == "WARN"
    assert "endsong_0.json" in check.description


@pytest.mark.slow
def test_the_warehouse_follows_each_change_of_its_sources_once(small_history, settings, monkeypatch):
    """The rule the daemon's sensor and the commands share: a whole build after an import, the update after a poll
    when polled plays are all that changed, nothing while a writer runs or once every change is in."""
    from dagster import AssetMaterialization, DagsterRunStatus

    from spotify_assets.defs.exports.assets import EXPORT_FILES_KEY
    from spotify_assets.defs.recently_played.assets import ITEMS_KEY
    from spotify_assets.defs.warehouse_updates import (
        warehouse_update,
        warehouse_update_sensor,
    )

    monkeypatch.setenv("SPOTIFY_DATA_DIR", settings.data_dir)  # the job's own resources read the same directory
    monkeypatch.setenv("SPOTIFY_TIMEZONE", "UTC")
    instance = DagsterInstance.ephemeral()

    def sensor_request():
        return warehouse_update_sensor(build_sensor_context(instance=instance, resources={"spotify_settings": settings}))

    assert warehouse_update(instance, settings).reason == "no source has sent anything yet"
    landed = receive_export(small_history.exports[0].path, settings.exports_landing_path)
    instance.add_dynamic_partitions(spotify_export_partitions.name, [landed.export_hash])
    assert materialize([import_spotify_export], partition_key=landed.export_hash,
                       resources={"spotify_settings": settings}, instance=instance).success
    update = warehouse_update(instance, settings)
    assert update.job_name == "build_warehouse_job" and "raw/export_files" in update.reason
    request = sensor_request()
    assert (request.job_name, request.run_key) == (update.job_name, update.request)  # the daemon asks the same

    # While a writer runs, nothing: its end is the next change.
    running = instance.create_run_for_job(defs.resolve_job_def("import_spotify_export_job"), status=DagsterRunStatus.STARTED)
    assert warehouse_update(instance, settings).waiting_for.run_id == running.run_id
    instance.report_run_canceled(running)

    build = defs.resolve_job_def(update.job_name).execute_in_process(instance=instance)
    assert build.success
    # dbt inside the process reports every test of the whole build as its asset check (tests/test_dbt_in_process.py
    # compares a partial update with dagster-dbt's own path).
    evaluated = {(check.asset_key, check.check_name) for check in build.get_asset_check_evaluations()}
    assert {(key.asset_key, key.name) for key in warehouse_models.check_keys} <= evaluated
    assert warehouse_update(instance, settings).reason == "the warehouse has taken in every change of its sources"
    assert "every change" in sensor_request().skip_message

    # Polled plays alone: the update downstream of them; with an export too: the whole build.
    instance.report_runless_asset_event(AssetMaterialization(ITEMS_KEY, partition="2024-05-01"))
    assert warehouse_update(instance, settings).job_name == "update_after_poll_job"
    instance.report_runless_asset_event(AssetMaterialization(EXPORT_FILES_KEY, partition=landed.export_hash))
    both = warehouse_update(instance, settings)
    assert both.job_name == "build_warehouse_job" and "raw/export_files" in both.reason and "raw/recently_played_items" in both.reason
