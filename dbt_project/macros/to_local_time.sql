{#- A UTC timestamp (naive) as wall-clock time in the listener's zone: `zone` is a column or expression naming an IANA
    zone (the listener's, from stg_listeners; counting rules, sections 3 and 12). DST comes from the zone rules
    (DuckDB's ICU), never from a fixed offset. Adapter-specific: DuckDB's AT TIME ZONE; another warehouse would use its
    own conversion here. -#}
{% macro to_local_time(utc_timestamp, zone='listener_timezone') -%}
    (({{ utc_timestamp }} AT TIME ZONE 'UTC') AT TIME ZONE {{ zone }})
{%- endmacro %}
