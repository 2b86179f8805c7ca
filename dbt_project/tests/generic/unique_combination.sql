{#- No two rows share the same values in `columns` (over the rows keys_to_check chooses). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_found
from {{ keys_to_check(model, columns) }} as checked
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
