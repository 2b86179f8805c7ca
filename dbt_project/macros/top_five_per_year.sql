{#- The display names of each listener's 5 most streamed keys of each year, by streams, then `names_order` (section 7):
    only the year bucket rows at or above their year's fifth highest count (ties included) are sorted, not every key's
    year. `name` and `names_order` refer to the dimension as `entity`. Columns: listener, year, names. -#}
{% macro top_five_per_year(buckets, dimension, key, name, names_order) -%}
    select year_rows.listener, year_rows.year,
           list({{ name }} order by year_rows.streams desc, {{ names_order }})[1:5] as names
    from (
        select listener, year(bucket_start) as year, {{ key }}, streams
        from {{ buckets }}
        where bucket_grain = 'year' and streams > 0
    ) as year_rows
    inner join (
        select listener, year(bucket_start) as year, list_min(max(streams, 5)) as fifth
        from {{ buckets }}
        where bucket_grain = 'year' and streams > 0
        group by 1, 2
    ) as thresholds
        on thresholds.listener = year_rows.listener and thresholds.year = year_rows.year
        and year_rows.streams >= thresholds.fifth
    inner join {{ dimension }} as entity
        on entity.listener = year_rows.listener and entity.{{ key }} = year_rows.{{ key }}
    group by 1, 2
{%- endmacro %}
