{#- One row per date and listener, with no gap between the listener's first date and its last. -#}
{% test covers_every_date(model, column_name) %}
select listener, min({{ column_name }}) as first_date, max({{ column_name }}) as last_date, count(*) as rows_found,
       count(distinct {{ column_name }}) as distinct_dates
from {{ model }}
group by listener
having count(*) > 0
   and (count(*) != count(distinct {{ column_name }})
        or count(*) != date_diff('day', min({{ column_name }}), max({{ column_name }})) + 1)
{% endtest %}
