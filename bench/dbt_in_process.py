"""What running dbt inside the Dagster process buys, against dagster-dbt's subprocess path (bench/RESULTS.md, "What
public interfaces cost a poll"; docs/architecture.md, "Internals").

On a data directory the demo filled (--plays true plays), times the dbt step of the update after a poll (every model
downstream of raw.recently_played_items, as `update_after_poll_job` selects them) in a new Python process each time,
as a command or a run worker is:

- in process: the project's `warehouse_models` asset (dbt's Python API, dbtRunner, in the Dagster process);
- subprocess: the same models as a `@dbt_assets` asset on dagster-dbt's public path,
  `DbtCliResource.cli(["build"], context=context).stream()`, which starts dbt in a process of its own.

The two alternate, on copies of one data directory, --repeats times each. Prints every time, the medians and their
ratio.

    .venv/bin/python bench/dbt_in_process.py [--plays 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("spotify-assets"))

# Runs in a new process: materializes the after-poll models with one variant, prints nothing but errors.
STEP = r'''
import sys, warnings
from pathlib import Path
warnings.filterwarnings("ignore")
from dagster import AssetSelection, DagsterInstance, materialize
from dagster_dbt import DbtCliResource, dbt_assets
from spotify_assets.definitions import defs
from spotify_assets.defs.recently_played.assets import ITEMS_KEY
from spotify_assets.defs.transformations.assets import WarehouseTranslator, warehouse_models
from spotify_assets.defs.transformations.project import dbt_project
from spotify_assets.settings import SpotifySettings

settings = SpotifySettings()
downstream = AssetSelection.assets(ITEMS_KEY).downstream(include_self=False) & AssetSelection.assets(warehouse_models)
if sys.argv[1] == "in-process":
    assets, resources = [warehouse_models], {"dbt": defs.resources["dbt"], "spotify_settings": settings}
else:
    import os
    os.environ.update(settings.dbt_environment())

    @dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=WarehouseTranslator())
    def public_models(context, dbt: DbtCliResource):
        yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()

    assets, resources = [public_models], {"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt")))}
    downstream = AssetSelection.assets(ITEMS_KEY).downstream(include_self=False) & AssetSelection.assets(public_models)
result = materialize(assets, selection=downstream.without_checks(), resources=resources,
                     instance=DagsterInstance.ephemeral(), raise_on_error=False)
sys.exit(0 if result.success else 1)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plays", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        demo = Path(scratch) / "demo"
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("SPOTIFY_", "DAGSTER_"))}
        subprocess.run([CLI, "demo", "--plays", str(arguments.plays)], check=True, capture_output=True,
                       env=environment | {"SPOTIFY_DATA_DIR": str(demo), "DAGSTER_HOME": str(demo / "dagster_home")})
        times: dict[str, list[float]] = {"in-process": [], "subprocess": []}
        for turn in range(arguments.repeats):
            for variant in times:
                data = Path(scratch) / f"{variant}-{turn}"
                shutil.copytree(demo, data)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-c", STEP, variant], check=True, cwd=ROOT,
                               env=environment | {"SPOTIFY_DATA_DIR": str(data)})
                times[variant].append(time.perf_counter() - started)
                shutil.rmtree(data)
    for variant, seconds in times.items():
        print(f"{variant:>10}: {', '.join(f'{s:.2f}' for s in seconds)} s (median {statistics.median(seconds):.2f} s)")
    ratio = statistics.median(times["subprocess"]) / statistics.median(times["in-process"])
    print(f"subprocess / in process: {ratio:.2f}x")


if __name__ == "__main__":
    main()
