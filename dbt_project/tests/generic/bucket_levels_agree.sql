{#- Year buckets equal the sum of their months, months the sum of their days, for every listener, key and
    every additive measure. Returns the disagreeing buckets. -#}
{% test bucket_levels_agree(model, key_column) %}
with buckets as (
    select * from {{ model }}
),

{% for parent, child in [('year', 'month'), ('month', 'day')] %}
{{ parent }}_from_{{ child }}s as (
    select
        listener,
        '{{ parent }}' as bucket_grain,
        cast(date_trunc('{{ parent }}', bucket_start) as date) as bucket_start,
        {{ key_column }},
        sum(streams) as streams,
        sum(ms_played) as ms_played,
        sum(plays_all) as plays_all
    from buckets
    where bucket_grain = '{{ child }}'
    group by all
),
{% endfor %}

summed as (
    select * from year_from_months
    union all
    select * from month_from_days
)

select coalesce(stored.listener, summed.listener) as listener,
       coalesce(stored.bucket_grain, summed.bucket_grain) as bucket_grain,
       coalesce(stored.bucket_start, summed.bucket_start) as bucket_start,
       coalesce(stored.{{ key_column }}, summed.{{ key_column }}) as {{ key_column }},
       stored.streams as stored_streams,
       summed.streams as summed_streams
from (select * from buckets where bucket_grain in ('year', 'month')) as stored
full outer join summed
    on stored.listener = summed.listener
    and stored.bucket_grain = summed.bucket_grain
    and stored.bucket_start = summed.bucket_start
    and stored.{{ key_column }} = summed.{{ key_column }}
where stored.streams is distinct from summed.streams
   or stored.ms_played is distinct from summed.ms_played
   or stored.plays_all is distinct from summed.plays_all
{% endtest %}
