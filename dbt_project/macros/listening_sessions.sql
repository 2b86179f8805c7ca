{#- Post-hook of fct_plays: plays written before the catalog knew their track's length get their completion
    (counting rules, section 9) once int_catalog_tracks_resolved recomputes the track. -#}
{% macro refresh_completion() -%}
    update {{ this }} as target
    set completion = least(target.ms_played / durations.duration_ms, 1.0)
    from {{ ref('int_catalog_tracks_resolved') }} as durations
    where durations.listener = target.listener
      and durations.track_key = target.track_key
      and durations.duration_ms > 0
      and durations.batch_at = {{ current_batch_at() }}
      and target.completion is distinct from least(target.ms_played / durations.duration_ms, 1.0)
{%- endmacro %}

{#- Post-hook of fct_plays: each play's session (counting rules, section 9), within each listener's plays. Plays in
    order of played_at_utc, then play_id; a play opens a session when its start (played_at_utc minus ms_played) is
    more than `session_gap_minutes` after the previous play's played_at_utc. A session's id is the play_id of its
    first play. A listener's sessions before the one open at the first play this run wrote for it cannot change, so
    its assignment starts at that session's first play (on a full build: at its first play); listeners this run
    wrote nothing for are left alone. A play whose session changed is stamped with this run's batch_at, so
    fct_sessions recomputes its old and new session. -#}
{% macro assign_sessions() -%}
    update {{ this }} as target
    set session_id = sessions.session_id, batch_at = {{ current_batch_at() }}
    from (
        with first_written as (
            select listener, played_at_utc, play_id
            from {{ this }}
            where batch_at = {{ current_batch_at() }}
            qualify row_number() over (partition by listener order by played_at_utc, play_id) = 1
        )

        -- per listener, the session holding the last play before the first one written (an aggregate: a window
        -- numbering those plays sorted all of them, 9 of a 1,000-listener poll's 11 s here)
        , anchor_session as (
            select before.listener, arg_max(before.session_id, (before.played_at_utc, before.play_id)) as session_id
            from {{ this }} as before
            inner join first_written on first_written.listener = before.listener
            where before.session_id is not null
              and (before.played_at_utc < first_written.played_at_utc
                   or (before.played_at_utc = first_written.played_at_utc and before.play_id < first_written.play_id))
            group by before.listener
        )

        -- and that session's first play
        , anchor as (
            select opener.listener, opener.played_at_utc, opener.play_id
            from {{ this }} as opener
            inner join anchor_session
                on anchor_session.listener = opener.listener and anchor_session.session_id = opener.play_id
        )

        -- that session's plays and every later one of the listener (all its plays where there is no anchor)
        , plays as (
            select play.listener, play.play_id, play.played_at_utc, play.ms_played
            from {{ this }} as play
            inner join first_written on first_written.listener = play.listener
            left join anchor on anchor.listener = play.listener
            where play.played_at_utc >= coalesce(anchor.played_at_utc, cast('-infinity' as timestamp))
              and not coalesce(play.played_at_utc = anchor.played_at_utc and play.play_id < anchor.play_id, false)
        )

        , openings as (
            select
                listener,
                play_id,
                played_at_utc,
                coalesce(
                    played_at_utc - to_milliseconds(ms_played)
                        > lag(played_at_utc) over (partition by listener order by played_at_utc, play_id)
                          + to_minutes(cast({{ var('session_gap_minutes') }} as bigint)),
                    true
                ) as opens_session
            from plays
        )

        select
            listener,
            play_id,
            first_value(play_id) over (partition by listener, session_number order by played_at_utc, play_id)
                as session_id
        from (
            select listener, play_id, played_at_utc,
                   sum(cast(opens_session as integer)) over (partition by listener order by played_at_utc, play_id
                                                            rows between unbounded preceding and current row) as session_number
            from openings
        )
    ) as sessions
    where target.listener = sessions.listener
      and target.play_id = sessions.play_id
      and target.session_id is distinct from sessions.session_id
{%- endmacro %}

{#- Post-hook of fct_sessions: sessions that no play belongs to any more are gone: their first play joined an
    earlier session (plays that arrived later closed the gap), or a rewritten day replaced it (a newer export's record
    of the same play has another play_id). Only sessions from the first day fct_plays rewrote on can be such. -#}
{% macro remove_vanished_sessions() -%}
    delete from {{ this }} as session
    where session.batch_at < {{ current_batch_at() }}
      and session.ended_at_utc >= (
          select cast(min(played_on_utc) as timestamp) from {{ ref('fct_plays') }} as written
          where written.batch_at = {{ current_batch_at() }} and written.listener = session.listener
      )
      and not exists (
          select 1 from {{ ref('fct_plays') }} as play
          where play.listener = session.listener
            and play.session_id = session.session_id
            and play.played_at_utc >= session.started_at_utc
      )
{%- endmacro %}
