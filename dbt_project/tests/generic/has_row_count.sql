{#- The model has exactly `expected` rows (e.g. 168 weekday x hour cells); with `per_listener`, exactly `expected` rows
    for each listener of the installation. -#}
{% test has_row_count(model, expected, per_listener=false) %}
{% if per_listener %}
select listeners.listener, count(rows.listener) as rows_found
from {{ ref('stg_installation__listeners') }} as listeners
left join {{ model }} as rows on rows.listener = listeners.listener
group by listeners.listener
having count(rows.listener) != {{ expected }}
{% else %}
select count(*) as rows_found
from {{ model }}
having count(*) != {{ expected }}
{% endif %}
{% endtest %}
