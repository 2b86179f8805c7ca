"""A fingerprint of what dbt's parse of the project depends on: the project's files (by content), the versions of dbt
and its adapter, and the values the project reads at parse time (the time zone; of the warehouse paths, only the file
names, which name the databases in the models). Editing any model, macro, test, seed or YAML file gives a new
fingerprint. It decides when `spotify-assets` parses the project again (cli/prepare.py), the docs site's code version,
and whether the warehouse's rows were built from the models and settings of today (build_state.py).
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

# dbt variables that are paths (SpotifySettings.dbt_vars): only their file names reach the manifest.
PATH_VARIABLES = ("warehouse_path", "warehouse_marts_path")
# dbt variables that change how a build runs, never what it computes: no part of the fingerprint.
RUN_ONLY_VARIABLES = ("duckdb_memory_limit",)
# dbt's own working folders inside the project: not sources of the parse.
_NOT_PARSED = {"target", "logs", "dbt_packages"}


def fingerprint(project_dir: Path, dbt_vars: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}={version(package)}\n".encode())
    digest.update(f"python={platform.python_version()}\n".encode())
    for name, value in sorted(dbt_vars.items()):
        if name in RUN_ONLY_VARIABLES:
            continue
        digest.update(f"{name}={Path(value).name if name in PATH_VARIABLES else value}\n".encode())
    for path in sorted(_project_files(project_dir)):
        digest.update(f"{path.relative_to(project_dir)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _project_files(project_dir: Path) -> list[Path]:
    files = []
    for folder, subfolders, names in os.walk(project_dir):
        subfolders[:] = [name for name in subfolders if not (Path(folder) == project_dir and name in _NOT_PARSED)
                         and not name.startswith(".")]
        files += [Path(folder) / name for name in names if not name.startswith(".")]
    return files
