"""Loading the code location, as `dagster dev`, the daemon and every command do: no warning, no side effect."""

import json
import os
import subprocess
import sys

LOAD_AND_REPORT = """
import json, os, warnings
before = dict(os.environ)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from spotify_assets.definitions import defs
    defs.resolve_asset_graph()
print(json.dumps({"warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
                  "environment_changes": sorted(k for k in set(before) | set(os.environ)
                                                if before.get(k) != os.environ.get(k))}))
"""


def test_loading_the_definitions_warns_nothing_and_changes_no_environment(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "SPOTIFY_"))}
    environment["SPOTIFY_DATA_DIR"] = str(tmp_path / "data")
    completed = subprocess.run([sys.executable, "-c", LOAD_AND_REPORT], env=environment, capture_output=True,
                               text=True, timeout=120, check=True)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report == {"warnings": [], "environment_changes": []}, report
    assert not (tmp_path / "data").exists()  # nothing written before a command or run asks for it


def test_lib_holds_no_dagster_code():
    """spotify_assets/lib/ is the code that knows nothing of Dagster (docs/architecture.md): importing any of its
    modules imports no Dagster."""
    from conftest import PROJECT_ROOT

    lib = PROJECT_ROOT / "spotify_assets" / "lib"
    modules = sorted("spotify_assets.lib." + ".".join(path.relative_to(lib).with_suffix("").parts)
                     for path in lib.rglob("*.py") if path.name != "__init__.py")
    check = ("import importlib, json, sys\nfound = {}\nfor name in %r:\n    importlib.import_module(name)\n"
             "    found[name] = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt'))\n"
             "print(json.dumps(found))" % modules)
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(found) > 20 and all(imported == [] for imported in found.values()), \
        {name: imported[:3] for name, imported in found.items() if imported}
