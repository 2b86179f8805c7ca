{#- Models go to the schema their folder sets (staging, intermediate; the marts to their own file's main), not
    "main_staging": the warehouse keeps plain schema names, and the published file answers `fct_plays` and
    `marts.fct_plays` alike. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
