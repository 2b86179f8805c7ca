{#- One row per date, with no gap between the first and the last. -#}
{% test covers_every_date(model, column_name) %}
select min({{ column_name }}) as first_date, max({{ column_name }}) as last_date, count(*) as rows_found,
       count(distinct {{ column_name }}) as distinct_dates
from {{ model }}
having count(*) > 0
   and (count(*) != count(distinct {{ column_name }})
        or count(*) != date_diff('day', min({{ column_name }}), max({{ column_name }})) + 1)
{% endtest %}
