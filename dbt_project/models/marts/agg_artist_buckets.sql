{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'bucket_grain', 'bucket_start']) }}

-- Pre-counted artist stats per year, month and day bucket (macro entity_buckets).
{{ entity_buckets('artist_key') }}
