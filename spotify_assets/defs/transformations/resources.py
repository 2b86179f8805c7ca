"""dbt, run by its documented Python API (dbtRunner) inside the Dagster process.

dagster-dbt's DbtCliResource starts dbt as a subprocess for every command, and each one pays about 5 s before its
first model (importing dbt, loading the manifest), plus `dbt --version` and a dbt adapter loaded into the Dagster
process. A poll's dbt work itself takes about 1 s at 10,000 plays. So this resource runs dbt in the run's own process,
with the project parsed once per process (dbt's partial parsing keeps that short), and turns dbt's results into
Dagster's events itself: a `MaterializeResult` per model or seed built, an `AssetCheckResult` per test that is an
asset check. What a run selects comes from the asset and check specs `@dbt_assets` made, which carry each node's dbt
unique id (`dagster_dbt/unique_id`). bench/dbt_in_process.py measures the gain (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    ConfigurableResource,
    DagsterExecutionInterruptedError,
    MaterializeResult,
)

_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
UNIQUE_ID = "dagster_dbt/unique_id"  # the metadata @dbt_assets gives every asset and check spec
# dbt's parsed Manifest, with what it was parsed for (project, target folder, variables). One at a time: a
# Manifest holds tens of megabytes, and a process builds one warehouse (the tests build many, one after another).
_PARSED_MANIFEST: dict[tuple, Any] = {}


@dataclass
class DbtBuild:
    """What one in-process dbt command produced: Dagster events, and the errors when it failed."""

    succeeded: bool
    events: list[MaterializeResult | AssetCheckResult] = field(default_factory=list)
    nodes: dict[str, dict] = field(default_factory=dict)  # unique id -> what metadata.py reads of each model built
    errors: list[str] = field(default_factory=list)  # dbt's error lines, for the run's failure


class WarehouseDbtResource(ConfigurableResource):
    """The dbt project, run in this process."""

    project_dir: str

    def build(self, context: AssetExecutionContext, arguments: Sequence[str], target_path: Path,
              project_vars: Mapping[str, str], whole: bool, run_vars: Mapping[str, str] | None = None) -> DbtBuild:
        """`dbt <arguments>` over the models and tests the run selected (`whole`: every model and check of the
        project, so every test runs, those between several models too). `project_vars`: what dbt's profile and
        project read (SpotifySettings.dbt_vars); `run_vars`: more for this command only, read when the SQL is
        compiled."""
        from dbt.cli.main import dbtRunner

        models = {spec.metadata[UNIQUE_ID]: spec.key for spec in context.assets_def.specs
                  if spec.key in context.selected_asset_keys and UNIQUE_ID in spec.metadata}
        checks = {spec.metadata[UNIQUE_ID]: spec.key for spec in context.assets_def.check_specs
                  if spec.key in context.selected_asset_check_keys and UNIQUE_ID in spec.metadata}
        locations = self._locations(target_path)
        manifest = self._parsed_manifest(locations, project_vars)
        # By fully qualified name (dbt's `fqn:` method), and no test beyond those named (indirect selection).
        selection = [] if whole else ["--select", *(f"fqn:{'.'.join(manifest.nodes[unique_id].fqn)}"
                                                    for unique_id in [*models, *checks]),
                                      "--indirect-selection", "empty"]
        messages = []  # dbt's event messages (its documented protobuf types: `info`, `data`)

        def keep(message) -> None:
            # Debug events (most of them) only go to dbt.log, except each node's result (NodeFinished).
            if message.info.level != "debug" or message.info.name == "NodeFinished":
                messages.append(message)

        try:
            result = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(
                [*arguments, *selection, *locations, "--vars", json.dumps({**project_vars, **(run_vars or {})}),
                 "--quiet"])
        finally:
            _close_warehouse_connection()
        _stop_if_interrupted(result)
        build = DbtBuild(succeeded=result.success)
        for message in messages:
            level, text = message.info.level, _ANSI_COLOUR.sub("", message.info.msg)
            if level in ("info", "warn", "error") and text and message.info.name != "NodeFinished":
                print(text, flush=True)  # dbt's progress lines, as its command line prints them
            if level == "error" and text:
                build.errors.append(text)
            if message.info.name == "NodeFinished":
                self._add_result(build, message.data, manifest, models, checks)
        if not build.succeeded and not build.errors:
            build.errors.append(str(result.exception or "dbt reported a failure"))
        return build

    def generate_docs(self, target_path: Path, project_vars: Mapping[str, str]) -> None:
        """`dbt docs generate --static` into `target_path` (the site and its catalog)."""
        from dbt.cli.main import dbtRunner

        locations = self._locations(target_path, write_json=True)  # the site reads manifest.json and catalog.json
        manifest = self._parsed_manifest(locations, project_vars)
        try:
            result = dbtRunner(manifest=manifest).invoke(["docs", "generate", "--static", *locations,
                                                          "--vars", json.dumps(dict(project_vars)), "--quiet"])
        finally:
            _close_warehouse_connection()
        _stop_if_interrupted(result)
        if not result.success:
            raise RuntimeError(f"dbt docs generate failed: {result.exception}")

    def _locations(self, target_path: Path, write_json: bool = False) -> list[str]:
        # Builds write no manifest.json or run_results.json (about 0.5 s each command): the Dagster run records every
        # result, and dbt.log in the target folder the details.
        return ["--project-dir", self.project_dir, "--profiles-dir", self.project_dir, "--target-path",
                str(target_path), "--log-path", str(target_path), *([] if write_json else ["--no-write-json"])]

    @staticmethod
    def _add_result(build: DbtBuild, data, manifest, models: dict, checks: dict) -> None:
        """`data`: a NodeFinished event's data (its node and its run result)."""
        unique_id = data.node_info.unique_id
        status = data.run_result.status
        metadata = {"unique_id": unique_id, "execution_duration": float(data.run_result.execution_time)}
        if unique_id in models and status == "success":
            node = manifest.nodes[unique_id]
            build.nodes[unique_id] = {"unique_id": unique_id, "resource_type": str(node.resource_type),
                                      "materialized": node.config.materialized, "database": node.database,
                                      "schema": node.schema, "alias": node.alias}
            build.events.append(MaterializeResult(asset_key=models[unique_id], metadata=metadata))
        elif unique_id in checks and status in ("pass", "warn", "fail", "error"):
            build.events.append(AssetCheckResult(
                asset_key=checks[unique_id].asset_key, check_name=checks[unique_id].name, passed=status == "pass",
                severity=AssetCheckSeverity.WARN if status == "warn" else AssetCheckSeverity.ERROR,
                metadata={**metadata, "status": status, "failures": int(data.run_result.num_failures)}))

    def _parsed_manifest(self, locations: list[str], project_vars: Mapping[str, str]):
        """Parsed once per process for a target folder and variables (the profile and the time zone are read at
        parse time); dbt's partial parsing makes a new process's parse short."""
        from dbt.cli.main import dbtRunner

        key = (*locations, *sorted(project_vars.items()))
        if key not in _PARSED_MANIFEST:
            result = dbtRunner().invoke(["parse", *locations, "--vars", json.dumps(dict(project_vars)), "--quiet"])
            _close_warehouse_connection()
            _stop_if_interrupted(result)
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception}")
            _PARSED_MANIFEST.clear()
            _PARSED_MANIFEST[key] = result.result
        return _PARSED_MANIFEST[key]


def _stop_if_interrupted(result) -> None:
    """Ctrl-C or SIGTERM while dbt worked (parsing, building, generating the docs): dbt stopped, and so does the run,
    as interrupted rather than failed."""
    if isinstance(result.exception, (KeyboardInterrupt, DagsterExecutionInterruptedError)):
        raise DagsterExecutionInterruptedError()


def _close_warehouse_connection() -> None:
    """dbt-duckdb keeps its DuckDB database open in the process after a command (one connection for the process,
    by design); its adapter's close_all_connections() drops it, and with nothing else holding it DuckDB closes the
    file at once, so the warehouse can be opened again (read-only for metadata, by the next step, by another
    process). A collection of the heap is not needed (it took 0.4 s a call with dbt's manifest in memory)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    DuckDBConnectionManager.close_all_connections()
