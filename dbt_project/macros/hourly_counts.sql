{#- INTEGER[24]: how many rows per local hour 0..23 satisfy `condition` (within the current group). -#}
{% macro hourly_counts(hour_column, condition) -%}
    [
    {%- for hour in range(24) -%}
        count_if({{ condition }} and {{ hour_column }} = {{ hour }}){{ ", " if not loop.last }}
    {%- endfor -%}
    ]::integer[24]
{%- endmacro %}
