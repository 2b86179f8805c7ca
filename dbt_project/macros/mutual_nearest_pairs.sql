{#- One-to-one matching of records to the nearest candidate (docs/counting-rules.md, section 6).

    `candidates` is a CTE with (listener, lower_id, higher_id, distance_ms); records match only records of the same
    listener, and ids need be unique only within a listener. Each round keeps the pairs that are each other's nearest
    among the records not matched yet; repeating this is exactly greedy nearest-first matching (the globally nearest
    open pair is always mutually nearest). Ties break by id.
    Emits CTEs ending in `<name>_pairs (listener, lower_id, higher_id)`, followed by a comma. -#}
{% macro mutual_nearest_pairs(candidates, name, rounds=6) -%}
{{ name }}_round_0 as (
    select cast(null as varchar) as listener, cast(null as varchar) as lower_id, cast(null as varchar) as higher_id
    where false
),
{%- for round in range(1, rounds + 1) %}
{{ name }}_ranked_{{ round }} as (
    select
        candidate.listener,
        candidate.lower_id,
        candidate.higher_id,
        row_number() over (partition by candidate.listener, candidate.lower_id
                           order by candidate.distance_ms, candidate.higher_id) as rank_for_lower,
        row_number() over (partition by candidate.listener, candidate.higher_id
                           order by candidate.distance_ms, candidate.lower_id) as rank_for_higher
    from {{ candidates }} as candidate
    where (candidate.listener, candidate.lower_id) not in (select listener, lower_id from {{ name }}_round_{{ round - 1 }})
      and (candidate.listener, candidate.higher_id) not in (select listener, higher_id from {{ name }}_round_{{ round - 1 }})
),
{{ name }}_round_{{ round }} as (
    select listener, lower_id, higher_id from {{ name }}_round_{{ round - 1 }}
    union all
    select listener, lower_id, higher_id from {{ name }}_ranked_{{ round }} where rank_for_lower = 1 and rank_for_higher = 1
),
{%- endfor %}
{{ name }}_pairs as (
    select listener, lower_id, higher_id from {{ name }}_round_{{ rounds }}
),
{%- endmacro %}
