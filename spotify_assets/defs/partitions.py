"""Partitions shared across modules.

Each export a listener gives us is one partition, keyed by the sha256 of its bytes: dropping the same
file twice maps to the same partition, and re-materializing a partition re-imports exactly that export.
"""

from dagster import DynamicPartitionsDefinition

spotify_export_partitions = DynamicPartitionsDefinition(name="spotify_exports")
