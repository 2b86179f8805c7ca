"""Declarative automation: the dbt models follow new raw data without a schedule per model."""

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus

warehouse_automation_sensor = AutomationConditionSensorDefinition(
    "warehouse_automation_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    description="Materializes every asset whose automation condition says so (dbt models: eager after new raw data).",
)
