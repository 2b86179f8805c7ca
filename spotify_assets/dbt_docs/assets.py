"""reports/dbt_docs_site: `dbt docs generate` into $SPOTIFY_DATA_DIR/dbt_docs.

Generating the catalog opens the warehouse, so the asset takes the warehouse pool like every writer:
it waits for a build instead of failing on DuckDB's file lock (or making a build fail). It runs when the
dbt project changes (its code version is a hash of the project's files) or when the site is missing.
"""

import json

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey,
                     AutomationCondition, MaterializeResult, MetadataValue, asset)
from dagster_dbt import DbtCliResource

from ..publishing.assets import published_marts_database
from ..reports.render import write_atomically
from ..settings import SpotifySettings
from ..transformations import parsed_manifests
from ..transformations.assets import dbt_environment_of
from ..transformations.project import DBT_PROJECT_DIR, dbt_project
from ..warehouse import WAREHOUSE_POOL
from .coverage import counts, undocumented

DOCS_KEY = AssetKey(["reports", "dbt_docs_site"])
SITE_FILES = ("index.html", "manifest.json", "catalog.json", "static_index.html")
DOCUMENTATION_CHECK = "every_column_documented"


def project_fingerprint() -> str:
    """Changes exactly when the site would: with any file dbt parses, or dbt's version."""
    return parsed_manifests.fingerprint(DBT_PROJECT_DIR, {})[:16]


@asset(
    key=DOCS_KEY,
    deps=[published_marts_database],
    group_name="reports",
    kinds={"dbt", "html"},
    pool=WAREHOUSE_POOL,
    code_version=project_fingerprint(),
    automation_condition=(
        (AutomationCondition.code_version_changed() | AutomationCondition.missing())
        & ~AutomationCondition.any_deps_missing() & ~AutomationCondition.in_progress()
    ).with_label("missing, or the dbt project changed"),
    check_specs=[AssetCheckSpec(DOCUMENTATION_CHECK, asset=DOCS_KEY,
                                description="Every source, model, seed and built column has a description.")],
    description="The dbt docs site in $SPOTIFY_DATA_DIR/dbt_docs (every source, model, column, test and exposure, "
    "with lineage); `spotify-assets docs` serves it on http://127.0.0.1:8080. static_index.html is the same site "
    "in one file.",
)
def dbt_docs_site(context: AssetExecutionContext, dbt: DbtCliResource, spotify_settings: SpotifySettings):
    site = spotify_settings.dbt_docs_path
    target = site / ".target"  # dbt's own target stays untouched: the code location reads its manifest
    with dbt_environment_of(spotify_settings):
        dbt.cli(["docs", "generate", "--static"], target_path=target, manifest=dbt_project.manifest_path).wait()
    for name in SITE_FILES:
        write_atomically(site / name, (target / name).read_bytes())  # a reloading browser never sees half a file
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    missing = undocumented(manifest, catalog)
    if missing:
        context.log.warning(f"{len(missing)} undocumented: {', '.join(missing[:20])}")
    found = counts(manifest)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(site / "index.html")),
            "serve": MetadataValue.md("`spotify-assets docs` serves it on <http://127.0.0.1:8080>"),
            **{f"{kind}s": number for kind, number in found.items()},
        },
        check_results=[AssetCheckResult(
            check_name=DOCUMENTATION_CHECK, passed=not missing, severity=AssetCheckSeverity.WARN,
            metadata={"undocumented": len(missing), "first_undocumented": ", ".join(missing[:20])})],
    )
