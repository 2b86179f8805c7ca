{#- The model counts exactly the streams (and ms_played, unless check_ms_played=false) of fct_plays:
    per grain when `grain_column` is given (each of year, month and day present and complete), else in
    total. -#}
{% test streams_match_plays(model, plays_model, grain_column=none, expected_grains=3, check_ms_played=true) %}
with expected as (
    select count_if(is_stream) as streams, sum(ms_played) as ms_played from {{ plays_model }}
),

counted as (
    select
        {{ grain_column if grain_column else "'all'" }} as grain,
        sum(streams) as streams,
        {{ "sum(ms_played)" if check_ms_played else "null" }} as ms_played
    from {{ model }}
    group by 1
)

select counted.grain, counted.streams, expected.streams as expected_streams
from counted cross join expected
where counted.streams != expected.streams
   {{ 'or counted.ms_played != expected.ms_played' if check_ms_played }}
{% if grain_column %}
union all
select 'missing grains', count(*), expected.streams
from counted cross join expected
group by expected.streams
having expected.streams > 0 and count(*) != {{ expected_grains }}
{% endif %}
{% endtest %}
