"""`spotify-assets prepare`: dbt's manifest, which the code location describes its assets with."""

from __future__ import annotations

import sys
from pathlib import Path

from spotify_assets.cli.failures import CommandFailed
from spotify_assets.settings import SpotifySettings


def prepare_dbt_manifest(settings: SpotifySettings, force: bool = False) -> None:
    """Build dbt's manifest, which the code location describes its assets with (`make install` does it), and
    build it again whenever the dbt project's files have changed since (a pull, an edited model)."""
    import os
    import subprocess

    from spotify_assets.defs.transformations.project import dbt_project
    from spotify_assets.lib.transformations import project_fingerprint

    stamp = dbt_project.manifest_path.with_name("manifest.fingerprint")
    fingerprint = project_fingerprint.fingerprint(Path(dbt_project.project_dir), {})
    current = dbt_project.manifest_path.exists() and stamp.exists() and stamp.read_text() == fingerprint
    if force or not current:
        dbt = Path(sys.executable).with_name("dbt")
        completed = subprocess.run([str(dbt), "parse", "--quiet"], cwd=dbt_project.project_dir,
                                   capture_output=True, text=True, env={**os.environ, **settings.dbt_environment()})
        if completed.returncode != 0:
            raise CommandFailed(f"dbt parse failed: {completed.stdout[-500:]}{completed.stderr[-500:]}")
        stamp.write_text(fingerprint)
