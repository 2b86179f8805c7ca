{#- The mood quadrant of counting rules section 11 from a track's valence and energy: null unless both are known. -#}
{% macro mood_quadrant(valence, energy) -%}
    case when {{ valence }} is not null and {{ energy }} is not null then
        case
            when {{ valence }} >= 0.5 and {{ energy }} >= 0.5 then 'happy-energetic'
            when {{ valence }} >= 0.5 then 'calm-content'
            when {{ energy }} >= 0.5 then 'tense-angry'
            else 'sad-low'
        end
    end
{%- endmacro %}

{#- Post-hook of fct_plays: plays written before their track's features were read get their mood once they are. -#}
{% macro refresh_mood() -%}
    update {{ this }} as target
    set mood = {{ mood_quadrant('features.valence', 'features.energy') }}
    from {{ ref('int_track_features_resolved') }} as features
    where features.listener = target.listener
      and features.track_key = target.track_key
      and features.loaded_at > coalesce(
          (select max(batch_at) from {{ this }} where batch_at < {{ current_batch_at() }}),
          cast('1970-01-01' as timestamp))
      and target.mood is distinct from {{ mood_quadrant('features.valence', 'features.energy') }}
{%- endmacro %}

{#- The mood figures of a group of streams (`streams` rows with mood, valence, energy and danceability; `present`, a
    column that is null only where an outer join found no stream): streams, those with features, coverage,
    stream-weighted means over the streams with features, and the streams in each quadrant. -#}
{% macro mood_figures(streams, present) -%}
    cast(count({{ streams }}.{{ present }}) as bigint) as streams,
    cast(count({{ streams }}.mood) as bigint) as streams_with_features,
    coalesce(count({{ streams }}.mood) / nullif(count({{ streams }}.{{ present }}), 0), 0.0) as coverage,
    avg({{ streams }}.valence) filter (where {{ streams }}.mood is not null) as mean_valence,
    avg({{ streams }}.energy) filter (where {{ streams }}.mood is not null) as mean_energy,
    avg({{ streams }}.danceability) filter (where {{ streams }}.mood is not null) as mean_danceability,
    cast(count(*) filter (where {{ streams }}.mood = 'happy-energetic') as bigint) as happy_energetic,
    cast(count(*) filter (where {{ streams }}.mood = 'calm-content') as bigint) as calm_content,
    cast(count(*) filter (where {{ streams }}.mood = 'tense-angry') as bigint) as tense_angry,
    cast(count(*) filter (where {{ streams }}.mood = 'sad-low') as bigint) as sad_low
{%- endmacro %}

{#- Post-hook of fct_plays: each play's listening mode as int_track_modes has it now, after a build that fitted the
    modes again (a track may change mode; a track without one any more has none). A poll's update, which does not fit
    them, skips it: its new plays took their track's mode when written. -#}
{% macro refresh_modes() -%}
    {%- set fitted_since_last_run -%}
        exists (select 1 from {{ ref('int_track_modes') }} as fit
                where fit.fitted_at > coalesce((select max(batch_at) from {{ this }} where batch_at < {{ current_batch_at() }}),
                                               cast('1970-01-01' as timestamp)))
    {%- endset -%}
    update {{ this }} as target
    set mode_id = modes.mode_id
    from {{ ref('int_track_modes') }} as modes
    where modes.listener = target.listener
      and modes.track_key = target.track_key
      and target.mode_id is distinct from modes.mode_id
      and {{ fitted_since_last_run }};
    update {{ this }} as target
    set mode_id = null
    where target.mode_id is not null
      and {{ fitted_since_last_run }}
      and not exists (select 1 from {{ ref('int_track_modes') }} as modes
                      where modes.listener = target.listener and modes.track_key = target.track_key)
{%- endmacro %}
