{#- Counting rule 6.1 (docs/counting-rules.md), copies of one record within a source: `records` rows with the same
    `identity` (the timestamp as the source gives it, the track, ms_played) are copies of one record.
    - Copies in different files are the same play(s): the file holding the most copies is kept (a multiset
      union, never a sum); among files holding as many, the one whose record comes first in `preference`.
    - Copies inside one file are as many plays as could physically end, one after the other, within the
      timestamp's precision: at most 1 + (precision_ms - 1) // ms_played of them (three 20-second skips can
      end in one minute; two 3-minute plays cannot end in one second).
    `records` needs export_hash, source_file, record_index and ms_played; `precision_ms` is a SQL expression.
    The rows kept carry `copies_seen`, the copies of the record in every file together, and `copies_skip_flag`, the
    skip flag any copy carries (null when no copy has one; only where `records` has is_skipped). -#}
{% macro plays_among_copies(records, identity, precision_ms, preference, with_skip_flag=false) -%}
    select * exclude (copy_file, copies_in_file, copy_rank_in_file, kept_file)
    from (
        select
            *,
            count(*) over (partition by {{ identity }}) as copies_seen,
            {% if with_skip_flag %}bool_or(is_skipped) over (partition by {{ identity }}) as copies_skip_flag,{% endif %}
            first_value(copy_file) over (
                partition by {{ identity }} order by copies_in_file desc, {{ preference }}
            ) as kept_file
        from (
            select
                *,
                concat_ws(':', export_hash, source_file) as copy_file,
                count(*) over (partition by {{ identity }}, export_hash, source_file) as copies_in_file,
                row_number() over (partition by {{ identity }}, export_hash, source_file order by record_index) as copy_rank_in_file
            from {{ records }}
        )
    )
    where copy_file = kept_file
      and copy_rank_in_file <= 1 + ({{ precision_ms }} - 1) // greatest(ms_played, 1)
{%- endmacro %}
