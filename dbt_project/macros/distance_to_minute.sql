{#- Milliseconds from `timestamp` to the minute an account-data endTime names. endTime is the stream's
    end truncated to the minute, so any moment inside [endTime, endTime + 60 s) is distance 0; measuring
    to endTime itself would make a repeat's first play look nearer to the next minute's record. -#}
{% macro distance_to_minute(timestamp, end_time_minute) -%}
    greatest(
        0,
        epoch_ms({{ end_time_minute }}) - epoch_ms({{ timestamp }}),
        epoch_ms({{ timestamp }}) - (epoch_ms({{ end_time_minute }}) + 59999)
    )
{%- endmacro %}
