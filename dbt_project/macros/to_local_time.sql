{#- A UTC timestamp (naive) as wall-clock time in the configured zone (var `timezone`).
    DST comes from the zone rules (DuckDB's ICU), never from a fixed offset. Adapter-specific:
    DuckDB's AT TIME ZONE; another warehouse would use its own conversion here. -#}
{% macro to_local_time(utc_timestamp) -%}
    (({{ utc_timestamp }} AT TIME ZONE 'UTC') AT TIME ZONE '{{ var("timezone") }}')
{%- endmacro %}
