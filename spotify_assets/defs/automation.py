"""Declarative automation, for what follows a change of the code rather than new data: the dbt docs site is
regenerated when the dbt project changes (its automation condition is on the asset). New data reaches the
warehouse through defs/warehouse_updates.py, the one rule the commands follow too."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
)

from spotify_assets.defs.dbt_docs.assets import DOCS_KEY

warehouse_automation_sensor = AutomationConditionSensorDefinition(
    "warehouse_automation_sensor",
    target=AssetSelection.assets(DOCS_KEY),
    default_status=DefaultSensorStatus.RUNNING,
    description="Regenerates the dbt docs site when the dbt project changed.",
)
