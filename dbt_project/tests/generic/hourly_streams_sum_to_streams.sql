{#- A row's hourly_streams (INTEGER[24]) add up to its streams. Rows without hours are skipped. -#}
{% test hourly_streams_sum_to_streams(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (len({{ column_name }}) != 24 or list_sum({{ column_name }}) != streams)
{% endtest %}
