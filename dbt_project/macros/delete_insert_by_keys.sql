{#- The delete+insert strategy with a composite unique_key (the bucket tables replace whole buckets:
    bucket_grain, bucket_start). dbt-duckdb deletes through a join with the new rows (`delete ... using`),
    which pairs every new row with every stored row of its bucket: at a million plays a year bucket of 12,000
    tracks makes that 150 million pairs, a second per poll and growing with history (bench/RESULTS.md).
    dbt's own default deletes the rows whose keys are among the new rows' distinct keys: milliseconds. -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {{ default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
