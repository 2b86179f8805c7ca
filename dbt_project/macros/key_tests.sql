{#- The key tests (`unique`, `unique_combination`) of a poll's update look only at the keys that occur in the
    rows the run wrote (the newest batch_at). An incremental model replaces its rows by key, so any duplicate it
    makes shares a key with a row it wrote; a scan of every key finds nothing more, and costs about a tenth of a
    second per test at a million plays. update_after_poll_job sets the var `key_tests_cover: newest_batch`; every
    other build, and any model whose documented columns lack batch_at, has every row checked (the columns come
    from the manifest: asking the database would cost a query per test). -#}
{% macro keys_to_check(model, columns) -%}
    {%- set newest_batch_only = namespace(value=false) -%}
    {%- if execute and var('key_tests_cover', 'every_row') == 'newest_batch' -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model'
              and node.alias == model.identifier and node.schema == model.schema -%}
            {%- set newest_batch_only.value = 'batch_at' in node.columns -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if newest_batch_only.value -%}
    (
        select * from {{ model }} as candidate
        where exists (
            select 1 from {{ model }} as written
            where written.batch_at = (select max(batch_at) from {{ model }})
            {%- for column in columns %}
              and written.{{ column }} is not distinct from candidate.{{ column }}
            {%- endfor %}
        )
    )
    {%- else -%}
    {{ model }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's own `unique` test, over the rows keys_to_check chooses. -#}
{% macro duckdb__test_unique(model, column_name) %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ keys_to_check(model, [column_name]) }} as checked
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}
