"""The daemon's side of run recovery: every minute, runs whose process is gone are failed and their warehouse slot
freed (instance/recovery.py), so an out-of-memory kill or a power cut never leaves the pipeline waiting forever."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from spotify_assets.instance.recovery import fail_dead_runs


@sensor(
    name="dead_run_sensor",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Fails runs whose process is gone (killed, or the machine stopped) and gives back the warehouse "
    "pool slot they held; launches no run.",
)
def dead_run_sensor(context: SensorEvaluationContext) -> SkipReason:
    failed = fail_dead_runs(context.instance)
    for run_id in failed:
        context.log.warning(f"Run {run_id} had died holding the warehouse (its process is gone): marked failed.")
    return SkipReason(f"{len(failed)} dead runs failed" if failed else "No dead runs.")
