"""dbt's parsed manifest, kept on disk between processes and shared by every data directory.

Each command is a new process, and dbt parses the project before its first command there: 3-5 s in a new data
directory, where there is nothing to be partial from (dbt keeps its parse cache per target folder and discards it
whenever the profile differs, and the profile names each data directory's warehouse); with a parse cache, as in a
poll, dbt's partial parsing costs about what loading a stored manifest does (bench/RESULTS.md). What dbt parses depends only on the project's files, the versions of dbt and its
adapter, and the values the project reads at parse time (the time zone; of the warehouse paths, only the file
names, which name the databases in the models), so one parse serves every data directory with those values.

A stored manifest is found by a fingerprint of all of those, the project's files by content: editing any
model, macro, test, seed or YAML file gives a new fingerprint and a new parse. Storing is best effort (a
read-only install just parses every time).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import platform
import uuid
from collections.abc import Mapping
from dataclasses import MISSING, fields
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Environment values that are paths: only their file names reach the manifest.
PATH_VARIABLES = ("SPOTIFY_WAREHOUSE_PATH", "SPOTIFY_WAREHOUSE_MARTS_PATH")
# dbt's own working folders inside the project: not sources of the parse.
_NOT_PARSED = {"target", "logs", "dbt_packages"}
# Fingerprints kept: enough for a few time zones and a few versions of the project side by side.
KEPT = 8


def fingerprint(project_dir: Path, environment: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}={version(package)}\n".encode())
    digest.update(f"python={platform.python_version()}\n".encode())
    for name, value in sorted(environment.items()):
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


def load(store: Path, key: str) -> Any | None:
    try:
        return pickle.loads((store / f"{key}.pickle").read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def save(store: Path, key: str, manifest: Any) -> None:
    """Written under a temporary name and renamed: a process reading at the same time sees all or nothing."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        partial = store / f".{key}.{uuid.uuid4().hex}"
        buffer = io.BytesIO()
        _ManifestPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(manifest)
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, store / f"{key}.pickle")
        for old in sorted(store.glob("*.pickle"), key=lambda path: path.stat().st_mtime, reverse=True)[KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        return


class _ManifestPickler(pickle.Pickler):
    """dbt 1.11's `Manifest.__reduce_ex__` hands its lookups to the constructor one position off (a field was added
    before them), so an unpickled Manifest fails its first `ref()`. A Manifest is pickled by its fields instead,
    without the private ones (lookups, caches, a lock), which start again from their defaults and fill on use."""

    def reducer_override(self, obj):
        from dbt.contracts.graph.manifest import Manifest

        if type(obj) is Manifest:
            return _restore_manifest, ({name: value for name, value in vars(obj).items() if not name.startswith("_")},)
        return NotImplemented


def _restore_manifest(state: dict) -> Any:
    from dbt.contracts.graph.manifest import Manifest

    manifest = Manifest.__new__(Manifest)
    for private in (field for field in fields(Manifest) if field.name.startswith("_")):
        setattr(manifest, private.name, private.default if private.default_factory is MISSING else private.default_factory())
    manifest.__dict__.update(state)
    return manifest
