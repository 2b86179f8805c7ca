"""Declarative automation: the warehouse follows new raw data without a schedule per model."""

from dagster import AssetSelection, AutomationCondition, AutomationConditionSensorDefinition, DefaultSensorStatus

# Like eager(), with two differences that matter here. An asset that was never built is requested
# as soon as it is seen missing (eager() never requests on a first evaluation, so a fresh daemon would
# not build the Web API branch and the first import's run would lack its tables), but not again after a
# failed attempt, until new data arrives. And it does not wait for every dependency to exist: a source
# that has sent nothing yet (no Web API credentials, say) must not hold back the marts; the warehouse
# asset creates every raw table itself.
follows_new_data = (
    (
        AutomationCondition.any_deps_updated().since_last_handled()
        | (AutomationCondition.missing() & ~AutomationCondition.execution_failed())
    )
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("missing, or dependencies updated")

warehouse_automation_sensor = AutomationConditionSensorDefinition(
    "warehouse_automation_sensor",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    description="Materializes every asset whose automation condition says so: the dbt models and the "
    "published marts after new raw data.",
)
