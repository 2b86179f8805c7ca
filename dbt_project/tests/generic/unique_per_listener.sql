{#- The column is unique within each listener's rows (counting rules, section 12: every key is a listener's); over the
    rows keys_to_check chooses, as dbt's own `unique` test here. -#}
{% test unique_per_listener(model, column_name) %}
select listener, {{ column_name }} as unique_field, count(*) as n_records
from {{ keys_to_check(model, ['listener', column_name]) }} as checked
where {{ column_name }} is not null
group by listener, {{ column_name }}
having count(*) > 1
{% endtest %}
