"""dagster-dbt's resource, with builds run by dbt inside the Dagster process.

dagster-dbt starts dbt as a subprocess for every command, and each one pays about 5 s before its first model:
importing dbt (2.5 s) and loading the project's manifest (about 2 s even with partial parsing). A poll's dbt
work itself takes about 1 s at 10,000 plays, so `build` below runs dbt's Python API (dbtRunner) in this
process with a manifest parsed once per process. dagster-dbt still decides what a run selects (its assets and
asset checks) and turns dbt's events into outputs and check results, as it does for its subprocess; the
subprocess stays for `dbt docs generate`. bench/RESULTS.md has the before and after figures.

Before each subprocess command, DbtCliResource would also run `dbt --version` (2 s) and load a dbt adapter
into the Dagster process (2.4 s, only for column metadata that transformations/metadata.py reads with DuckDB
directly); the dbt here is always the dbt-core installed beside this Python, so neither is needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, DagsterExecutionInterruptedError
from dagster_dbt import DbtCliResource
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dbt.version import __version__ as DBT_CORE_VERSION
from packaging import version

_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# dbt's parsed Manifest, with what it was parsed for (project, target folder, environment). One at a time: a
# Manifest holds tens of megabytes, and a process builds one warehouse (the tests build many, one after another).
_PARSED_MANIFEST: dict[tuple, Any] = {}


@dataclass
class DbtBuild:
    """What one in-process dbt command produced: Dagster events, and the errors when it failed."""

    manifest: Mapping[str, Any]  # the manifest dagster-dbt describes the assets with
    succeeded: bool
    events: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # dbt's error lines, for the run's failure


class WarehouseDbtResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(DBT_CORE_VERSION)

    def _initialize_dbt_core_adapter(self, args):
        return None

    def build(self, context: AssetExecutionContext, arguments: Sequence[str], target_path: Path,
              environment: Mapping[str, str]) -> DbtBuild:
        """`dbt <arguments>` over the assets and checks the run selected, in this process. `environment` holds
        the values dbt's profile and project read (they must already be in os.environ)."""
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        selection, indirect_selection = get_subset_selection_for_context(
            context=context, manifest=manifest, select=context.op.tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
            exclude=context.op.tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
            selector=context.op.tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY), dagster_dbt_translator=translator,
            current_dbt_indirect_selection_env=None)
        # No manifest.json or run_results.json (about 0.5 s each command): the Dagster run records every result,
        # and dbt.log in the target folder the details.
        locations = ["--project-dir", self.project_dir, "--profiles-dir", self.project_dir,
                     "--target-path", str(target_path), "--log-path", str(target_path), "--no-write-json"]
        messages: list[dict] = []

        def keep(message) -> None:
            # Debug events (most of them) only go to dbt.log; the results dagster-dbt reads are info events.
            if message.info.level != "debug":
                messages.append(msg_to_dict(message))

        runner = dbtRunner(manifest=self._parsed_manifest(locations, environment), callbacks=[keep])
        try:
            result = runner.invoke([*arguments, *selection, *locations, "--quiet",
                                    *(["--indirect-selection", indirect_selection] if indirect_selection else [])])
        finally:
            _close_warehouse_connection()
        if isinstance(result.exception, (KeyboardInterrupt, DagsterExecutionInterruptedError)):
            raise DagsterExecutionInterruptedError()  # Ctrl-C or SIGTERM: dbt stopped, and so does the run
        build = DbtBuild(manifest, succeeded=result.success)
        for message in messages:
            level, text = message["info"]["level"], _ANSI_COLOUR.sub("", message["info"]["msg"])
            if level in ("info", "warn", "error") and text:
                print(text, flush=True)  # dbt's progress lines, as its command line prints them
            if level == "error" and text:
                build.errors.append(text)
            build.events.extend(DbtCoreCliEventMessage(raw_event=message, event_history_metadata={})
                                .to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator,
                                                         context=context, target_path=target_path,
                                                         project=project))
        if not build.succeeded and not build.errors:
            build.errors.append(str(result.exception or "dbt reported a failure"))
        return build

    def _parsed_manifest(self, locations: list[str], environment: Mapping[str, str]):
        """Parsed once per process for a target folder and environment (the profile and the time zone variable
        are read at parse time); dbt's partial parsing makes a new process's parse short."""
        from dbt.cli.main import dbtRunner

        key = (*locations, *sorted(environment.items()))
        if key not in _PARSED_MANIFEST:
            result = dbtRunner().invoke(["parse", *locations, "--quiet"])
            _close_warehouse_connection()
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception}")
            _PARSED_MANIFEST.clear()
            _PARSED_MANIFEST[key] = result.result
        return _PARSED_MANIFEST[key]


def _close_warehouse_connection() -> None:
    """dbt-duckdb keeps its DuckDB database open in the process after a command; close it, so the warehouse
    can be opened again (read-only for metadata, by the next step, by another process)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
