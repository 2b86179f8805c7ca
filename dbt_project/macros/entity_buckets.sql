{#- Pre-counted stats per listener, `key_column` and year, month and day (local dates); day rows carry streams
    per hour. Months are sums of their day rows and years of their month rows, so the levels agree by
    construction (and are tested). Incremental: day rows are counted again from fct_plays only for the
    local dates it rewrote; their months and years are re-summed from the stored day and month rows. -#}
{% macro entity_buckets(key_column) -%}
with
{% if is_incremental() %}
affected_dates as (
    {{ local_dates_changed_in(ref('fct_plays')) }}
),

affected_months as (
    select distinct listener, cast(date_trunc('month', local_date) as date) as month_start from affected_dates
),

affected_years as (
    select distinct listener, cast(date_trunc('year', local_date) as date) as year_start from affected_dates
),
{% endif %}

new_days as (
    select
        listener,
        'day' as bucket_grain,
        local_date as bucket_start,
        {{ key_column }},
        cast(count_if(is_stream) as bigint) as streams,
        cast(sum(ms_played) as bigint) as ms_played,
        cast(count(*) as bigint) as plays_all,
        cast(count(*) filter (where is_skip) as bigint) as skips,
        cast(count(is_skip) as bigint) as plays_known,
        {{ hourly_counts('local_hour', 'is_stream') }} as hourly_streams
    from {{ ref('fct_plays') }}
    {% if is_incremental() %}
    where (listener, local_date) in (select listener, local_date from affected_dates)
    {% endif %}
    group by listener, local_date, {{ key_column }}
),

days_of_affected_months as (
    select {{ bucket_columns(key_column) }} from new_days
    {% if is_incremental() %}
    union all
    {{ stored_buckets_beside('day', 'month', 'affected_months', 'month_start', 'affected_dates', 'local_date', key_column) }}
    {% endif %}
),

new_months as (
    {{ summed_into('month', 'days_of_affected_months', key_column) }}
),

months_of_affected_years as (
    select * from new_months
    {% if is_incremental() %}
    union all
    {{ stored_buckets_beside('month', 'year', 'affected_years', 'year_start', 'affected_months', 'month_start', key_column) }}
    {% endif %}
),

new_years as (
    {{ summed_into('year', 'months_of_affected_years', key_column) }}
)

{%- set id_column = key_column | replace('_key', '_id') %}
select *, {{ current_batch_at() }} as batch_at, {{ entity_id(key_column) }} as {{ id_column }} from new_days
union all
select *, null as hourly_streams, {{ current_batch_at() }} as batch_at, {{ entity_id(key_column) }} as {{ id_column }} from new_months
union all
select *, null as hourly_streams, {{ current_batch_at() }} as batch_at, {{ entity_id(key_column) }} as {{ id_column }} from new_years
{%- endmacro %}


{#- The columns every bucket row has (day rows add hourly_streams). -#}
{% macro bucket_columns(key_column) -%}
    listener, bucket_grain, bucket_start, {{ key_column }}, streams, ms_played, plays_all, skips, plays_known
{%- endmacro %}

{#- The `grain` rows (month or year) summed from the finer rows in `finer_rows`: one roll-up rule for both levels. -#}
{% macro summed_into(grain, finer_rows, key_column) -%}
    select
        listener,
        '{{ grain }}' as bucket_grain,
        cast(date_trunc('{{ grain }}', bucket_start) as date) as bucket_start,
        {{ key_column }},
        cast(sum(streams) as bigint) as streams,
        cast(sum(ms_played) as bigint) as ms_played,
        cast(sum(plays_all) as bigint) as plays_all,
        cast(sum(skips) as bigint) as skips,
        cast(sum(plays_known) as bigint) as plays_known
    from {{ finer_rows }}
    group by all
{%- endmacro %}

{#- Stored `grain` rows that an incremental run did not rewrite but whose `parent_grain` bucket it did (listed in
    `changed_parents`.`parent_column`): they are summed again with the rewritten ones. Rows listed in
    `rewritten`.`rewritten_column` come from this run instead. -#}
{% macro stored_buckets_beside(grain, parent_grain, changed_parents, parent_column, rewritten, rewritten_column, key_column) -%}
    select {{ bucket_columns(key_column) }}
    from {{ this }}
    where bucket_grain = '{{ grain }}'
      and (listener, cast(date_trunc('{{ parent_grain }}', bucket_start) as date))
          in (select listener, {{ parent_column }} from {{ changed_parents }})
      and (listener, bucket_start) not in (select listener, {{ rewritten_column }} from {{ rewritten }})
{%- endmacro %}
