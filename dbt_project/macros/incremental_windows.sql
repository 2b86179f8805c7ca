{#- Helpers for the incremental models. Each incremental row carries `batch_at`, the start of the dbt
    run that (re)computed it. A downstream model finds what changed since its own last run by comparing
    its input's batch_at with the newest batch_at it holds itself; whole days are recomputed, so every
    row of a recomputed day carries the new batch_at. -#}

{% macro current_batch_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The newest batch this model has processed (the epoch before the first run). -#}
{% macro last_batch_at() -%}
    (select coalesce(max(batch_at), cast('1970-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{#- The (listener, UTC day) pairs whose staging records arrived after this model's load watermark
    (`loaded_through`). Every incremental model recomputes whole days of one listener at a time (section 12). -#}
{% macro days_with_new_records(staging_relation) -%}
    select distinct listener, cast(played_at_utc as date) as utc_date
    from {{ staging_relation }}
    where loaded_at > (select coalesce(max(loaded_through), cast('1970-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{#- The bookkeeping columns of a model recomputed by UTC day from staging records (the deduplication models): its
    day (with the listener, the `unique_key` delete+insert replaces), its load watermark, which `days_with_new_records` reads on the
    next run, and the run's batch_at. `staging_relations`: the model's staging inputs; the newest load counts.
    The models keep their own `records` CTEs, since each source filters differently (API items without names,
    account-data days re-read when an artist becomes known as a show, episodes with their neighbouring days). -#}
{% macro day_watermark_columns(staging_relations) -%}
    cast(played_at_utc as date) as played_on_utc,
    {% if staging_relations | length == 1 -%}
    (select max(loaded_at) from {{ staging_relations[0] }}) as loaded_through,
    {%- else -%}
    greatest(
        {% for relation in staging_relations %}
        coalesce((select max(loaded_at) from {{ relation }}), cast('1970-01-01' as timestamp)){{ "," if not loop.last }}
        {% endfor %}
    ) as loaded_through,
    {%- endif %}
    {{ current_batch_at() }} as batch_at
{%- endmacro %}

{#- The (listener, day of `date_column`) pairs that `relation` recomputed since this model last ran. -#}
{% macro days_changed_in(relation, date_column) -%}
    select distinct listener, {{ date_column }} as changed_date
    from {{ relation }}
    where batch_at > {{ last_batch_at() }}
{%- endmacro %}

{#- (listener, local date) pairs whose plays may have changed: every local date within a day of a UTC day that
    `relation` (fct_plays) rewrote for the listener since this model last ran. -#}
{% macro local_dates_changed_in(relation) -%}
    select distinct listener, changed_date + day_offset as local_date
    from ({{ days_changed_in(relation, 'played_on_utc') }}), (values (-1), (0), (1)) as offsets(day_offset)
{%- endmacro %}

{#- Post-hook: rows this run did not recompute still get a key's new display name (the listener's own). -#}
{% macro refresh_display_names(entity, key_column, name_column) -%}
    update {{ this }} as target
    set {{ name_column }} = names.display_name
    from {{ ref('int_names_ranked') }} as names
    where names.listener = target.listener
      and names.entity = '{{ entity }}'
      and names.entity_key = target.{{ key_column }}
      and names.batch_at = {{ current_batch_at() }}
      and target.{{ name_column }} is distinct from names.display_name
{%- endmacro %}

{#- Post-hook: recording keys (ISRCs) that the catalog lookup found since this model's previous run,
    for rows computed before the lookup. `match` relates `target` rows to `catalog` rows. -#}
{% macro refresh_recording_keys(match) -%}
    update {{ this }} as target
    set recording_key = catalog.isrc
    from {{ ref('stg_spotify_api__catalog_tracks') }} as catalog
    where {{ match }}
      and catalog.isrc is not null
      and target.recording_key is null
      and catalog.loaded_at > coalesce(
          (select max(batch_at) from {{ this }} where batch_at < {{ current_batch_at() }}),
          cast('1970-01-01' as timestamp))
{%- endmacro %}
