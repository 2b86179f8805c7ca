{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'bucket_grain', 'bucket_start']) }}

-- Pre-counted track stats per year, month and day bucket (macro entity_buckets).
{{ entity_buckets('track_key') }}
