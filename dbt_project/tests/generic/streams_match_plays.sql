{#- The model counts exactly the streams (and ms_played, unless check_ms_played=false) of fct_plays, listener by
    listener: per grain when `grain_column` is given (each of year, month and day present and complete), else in
    total. -#}
{% test streams_match_plays(model, plays_model, grain_column=none, expected_grains=3, check_ms_played=true) %}
with expected as (
    select listener, count_if(is_stream) as streams, sum(ms_played) as ms_played from {{ plays_model }} group by listener
),

counted as (
    select
        listener,
        {{ grain_column if grain_column else "'all'" }} as grain,
        sum(streams) as streams,
        {{ "sum(ms_played)" if check_ms_played else "null" }} as ms_played
    from {{ model }}
    group by 1, 2
)

select counted.listener, counted.grain, counted.streams, expected.streams as expected_streams
from counted
left join expected on expected.listener = counted.listener
where counted.streams != coalesce(expected.streams, 0)
   {{ 'or counted.ms_played != expected.ms_played' if check_ms_played }}
union all
select expected.listener, 'missing', 0, expected.streams
from expected
where expected.streams > 0 and expected.listener not in (select listener from counted)
{% if grain_column %}
union all
select expected.listener, 'missing grains', count(*), expected.streams
from counted inner join expected on expected.listener = counted.listener
group by expected.listener, expected.streams
having expected.streams > 0 and count(*) != {{ expected_grains }}
{% endif %}
{% endtest %}
