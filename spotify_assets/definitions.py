"""The code location: every definition under spotify_assets/defs/, one module per concern, loaded by Dagster's
`load_from_defs_folder`; here every asset gets its owner and a link to its source."""

import warnings
from pathlib import Path

import dagster as dg

# One owner for everything: the listener's warehouse has one team behind it.
OWNER = "team:listening-history"


def _owned_and_linked(definitions: dg.Definitions) -> dg.Definitions:
    # A module that uses an asset (a job's selection) imports it, so the loader meets it more than once.
    assets = list({id(asset): asset for asset in definitions.assets or []}.values())
    # Code references are a beta API of Dagster's: its notice addresses this project's developers (the pinned
    # version is tested), not the listener whose `dagster dev` or command loads these definitions.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
    owned = dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=[OWNER]), assets)
    return dg.Definitions.merge(dg.Definitions(assets=owned),
                                dg.Definitions(jobs=definitions.jobs, schedules=definitions.schedules,
                                               sensors=definitions.sensors, resources=definitions.resources,
                                               executor=definitions.executor, asset_checks=definitions.asset_checks))


defs = _owned_and_linked(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
