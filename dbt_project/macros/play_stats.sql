{#- The stats every dimension carries, aggregated over its plays (fct_plays rows). -#}
{% macro play_stats() -%}
    min(played_at_utc) filter (where is_stream) as first_stream_at_utc,
    max(played_at_utc) filter (where is_stream) as last_stream_at_utc,
    min(local_date) filter (where is_stream) as first_stream_date,
    min(played_at_utc) as first_played_at_utc,
    max(played_at_utc) as last_played_at_utc,
    cast(count_if(is_stream) as bigint) as streams,
    cast(count(*) as bigint) as plays_all,
    cast(count(*) filter (where is_skip) as bigint) as skips,
    cast(count(is_skip) as bigint) as plays_known,
    cast(sum(ms_played) as bigint) as ms_played
{%- endmacro %}
