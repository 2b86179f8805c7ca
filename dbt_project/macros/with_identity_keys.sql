{#- CTEs `keyed_names` and `keyed`: the records of `records` with the identity keys of the counting
    rules (docs/counting-rules.md, section 5): artist_key = normalize(artist), track_key = artist_key U+001F normalize(track),
    and album_key likewise when the source names albums. normalize_name() runs once per distinct
    spelling, not once per record. Emits CTEs followed by a comma. -#}
{% macro with_identity_keys(records, with_album=true) -%}
keyed_names as (
    select
        artist_name,
        track_name,
        {% if with_album %}album_name,{% endif %}
        normalize_name(artist_name) as artist_key,
        normalize_name(artist_name) || chr(31) || normalize_name(track_name) as track_key
        {% if with_album %}, normalize_name(artist_name) || chr(31) || normalize_name(album_name) as album_key{% endif %}
    from (select distinct artist_name, track_name {% if with_album %}, album_name{% endif %} from {{ records }})
),

keyed as (
    select
        {{ records }}.*,
        keyed_names.artist_key,
        keyed_names.track_key
        {% if with_album %}, keyed_names.album_key{% endif %}
    from {{ records }}
    inner join keyed_names
        on {{ records }}.artist_name = keyed_names.artist_name
        and {{ records }}.track_name = keyed_names.track_name
        {% if with_album %}and {{ records }}.album_name is not distinct from keyed_names.album_name{% endif %}
),
{%- endmacro %}
