{#- The model has exactly `expected` rows (e.g. 168 weekday x hour cells). -#}
{% test has_row_count(model, expected) %}
select count(*) as rows_found
from {{ model }}
having count(*) != {{ expected }}
{% endtest %}
