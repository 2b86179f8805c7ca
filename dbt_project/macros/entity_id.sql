{#- A 64-bit number standing for a text key (the upper half of its MD5): the range macros group and join
    on it, which is several times faster than on the text keys. Deterministic across runs and DuckDB
    versions; `unique` tests on dim_artist.artist_id and dim_track.track_id would catch a collision. -#}
{% macro entity_id(key_column) -%}
    md5_number_upper({{ key_column }})
{%- endmacro %}
