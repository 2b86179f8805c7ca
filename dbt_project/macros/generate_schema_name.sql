{#- Models go to the schema their folder names (staging, intermediate, marts), not "main_staging":
    SQL users and the published database see the contract's plain schema names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
