"""Where the time of a command's Dagster runs went, from the instance's own event timestamps.

    .venv/bin/python bench/run_timeline.py --data-dir DIR [--runs 3]

Prints, for the newest runs of DIR's Dagster instance (oldest first): when each started relative to the first,
its duration, its event count, each step's duration, and every pause of at least --pause seconds between two
consecutive events (a step's own work; everything shorter is Dagster writing events).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.25)
    arguments = parser.parse_args()
    os.environ["DAGSTER_HOME"] = str(arguments.data_dir.resolve() / "dagster_home")
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    first = None
    for run in reversed(instance.get_runs(limit=arguments.runs)):
        events = [record.event_log_entry for record in instance.get_records_for_run(run.run_id).records]
        first = first if first is not None else events[0].timestamp
        steps: dict[str, list[float]] = {}
        for event in events:
            if event.dagster_event and event.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                steps.setdefault(event.step_key, []).append(event.timestamp)
        print(f"{run.job_name}: starts at {events[0].timestamp - first:.2f} s, lasts "
              f"{events[-1].timestamp - events[0].timestamp:.2f} s, {len(events)} events; steps: "
              + ", ".join(f"{step} {times[-1] - times[0]:.2f} s" for step, times in steps.items()))
        for before, after in zip(events, events[1:]):
            if after.timestamp - before.timestamp >= arguments.pause:
                kind = after.dagster_event.event_type_value if after.dagster_event else "log"
                print(f"    {after.timestamp - before.timestamp:6.2f} s before {kind} {after.step_key or ''}")


if __name__ == "__main__":
    main()
