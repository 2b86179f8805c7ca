{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['listener', 'played_on_utc']) }}

-- One row per music play, whichever sources saw it (docs/counting-rules.md, rules 6.2-6.4).
--
-- docs/counting-rules.md rule 6.2, API <-> extended: same track URI and the API played_at inside
--   [ts - ms_played - 10 s, ts + 10 s]. Spotify's played_at may mark the start or the end of the
--   stream, so "nearest" measures to whichever of the two is closer.
-- Rule 6.3, standard <-> (API or extended): same track_key, within 90 s of the higher-priority
--   timestamp (the API's, or the extended export's when the play has one). Nearness is measured to
--   the minute endTime names (macro distance_to_minute), since endTime drops the seconds.
-- Each lower-priority record matches at most one higher-priority record and vice versa, nearest
-- first (macro mutual_nearest_pairs). Everything unmatched is its own play (rule 6.4).
--
-- Incremental: the UTC days whose source records changed, and the day on each side (a match can
-- cross midnight), are recomputed from the records of one more day on each side.
with
{% if is_incremental() %}
changed_days as (
    {{ days_changed_in(ref('int_api_plays_deduplicated'), 'played_on_utc') }}
    union
    {{ days_changed_in(ref('int_extended_streams_deduplicated'), 'played_on_utc') }}
    union
    {{ days_changed_in(ref('int_standard_streams_deduplicated'), 'played_on_utc') }}
),

affected_days as (
    select distinct listener, changed_date + day_offset as utc_date
    from changed_days, (values (-1), (0), (1)) as offsets(day_offset)
),

input_days as (
    select distinct listener, utc_date + day_offset as utc_date
    from affected_days, (values (-1), (0), (1)) as offsets(day_offset)
),
{% endif %}

-- The three sources `not materialized`: the matching below reads each several times, and DuckDB would otherwise
-- copy every record of each, all columns, into a scratch table first (0.4 s of 2.4 s at a million plays).
api as not materialized (
    select * from {{ ref('int_api_plays_deduplicated') }}
    {% if is_incremental() %} where (listener, played_on_utc) in (select listener, utc_date from input_days) {% endif %}
),

extended as not materialized (
    select * from {{ ref('int_extended_streams_deduplicated') }}
    {% if is_incremental() %} where (listener, played_on_utc) in (select listener, utc_date from input_days) {% endif %}
),

standard as not materialized (
    select * from {{ ref('int_standard_streams_deduplicated') }}
    where is_podcast_episode is not true  -- podcast episodes among an old export's songs (int_episode_plays_deduplicated)
    {% if is_incremental() %} and (listener, played_on_utc) in (select listener, utc_date from input_days) {% endif %}
),

api_extended_candidates as (
    select
        extended.listener,
        extended.record_id as lower_id,
        api.record_id as higher_id,
        least(
            abs(epoch_ms(api.played_at_utc) - epoch_ms(extended.played_at_utc)),
            abs(epoch_ms(api.played_at_utc) - (epoch_ms(extended.played_at_utc) - extended.ms_played))
        ) as distance_ms
    from extended
    inner join api
        on api.listener = extended.listener
        and api.track_uri = extended.track_uri
        and api.played_at_utc >= extended.played_at_utc - to_milliseconds(extended.ms_played) - interval 10 second
        and api.played_at_utc <= extended.played_at_utc + interval 10 second
),

{{ mutual_nearest_pairs('api_extended_candidates', 'api_extended') }}

-- API plays, merged with their extended record where one matched: identity and time from the API,
-- listening details from the export.
higher_priority_plays as (
    select
        api.listener,
        'api' as source,
        api.played_at_utc,
        api.track_uri,
        api.track_name,
        api.artist_name,
        api.album_name,
        api.isrc,
        api.artists_json,
        api.track_key,
        api.artist_key,
        api.album_key,
        coalesce(extended.ms_played, api.duration_ms) as ms_played,
        extended.ms_played is null as is_ms_played_estimated,
        extended.is_skipped,
        extended.is_shuffle,
        extended.platform,
        extended.reason_start,
        extended.reason_end,
        extended.is_offline,
        extended.is_incognito,
        api.record_id as api_record_id,
        extended.record_id as extended_record_id,
        extended.played_at_utc as extended_played_at_utc
    from api
    left join api_extended_pairs
        on api_extended_pairs.listener = api.listener and api_extended_pairs.higher_id = api.record_id
    left join extended
        on extended.listener = api.listener and extended.record_id = api_extended_pairs.lower_id

    union all

    select
        extended.listener,
        'extended' as source,
        extended.played_at_utc,
        extended.track_uri,
        extended.track_name,
        extended.artist_name,
        extended.album_name,
        null as isrc,
        null as artists_json,
        extended.track_key,
        extended.artist_key,
        extended.album_key,
        extended.ms_played,
        false as is_ms_played_estimated,
        extended.is_skipped,
        extended.is_shuffle,
        extended.platform,
        extended.reason_start,
        extended.reason_end,
        extended.is_offline,
        extended.is_incognito,
        null as api_record_id,
        extended.record_id as extended_record_id,
        extended.played_at_utc as extended_played_at_utc
    from extended
    where (extended.listener, extended.record_id) not in (select listener, lower_id from api_extended_pairs)
),

-- Candidates meet through 3-minute time buckets besides the track: a join on the track alone paired every
-- account-data record with every play of its track, which grows with the square of a favourite's plays
-- (14 s of a million-play import; bench/RESULTS.md). A window of 180 s touches exactly two buckets.
standard_windows as (
    select listener, record_id, track_key, played_at_utc, (epoch_ms(played_at_utc) - 90000) // 180000 as window_bucket
    from standard
    union all
    select listener, record_id, track_key, played_at_utc, (epoch_ms(played_at_utc) + 90000) // 180000 as window_bucket
    from standard
),

-- Each higher-priority play at its own time and, merged with an extended record, at that record's time too.
-- Two plain selects, not an unnest per row: DuckDB joins a lateral unnest back to its rows, which took
-- half of this model's 5 s at a million plays (bench/RESULTS.md).
higher_moments as (
    select *, epoch_ms(moment) // 180000 as moment_bucket
    from (
        select
            listener,
            coalesce(api_record_id, extended_record_id) as higher_id,
            track_key,
            played_at_utc,
            extended_played_at_utc,
            played_at_utc as moment
        from higher_priority_plays
        union all
        select
            listener,
            coalesce(api_record_id, extended_record_id) as higher_id,
            track_key,
            played_at_utc,
            extended_played_at_utc,
            extended_played_at_utc as moment
        from higher_priority_plays
        where extended_played_at_utc is distinct from played_at_utc
    )
),

standard_candidates as (
    select distinct
        standard.listener,
        standard.record_id as lower_id,
        higher.higher_id,
        least(
            {{ distance_to_minute('higher.played_at_utc', 'standard.played_at_utc') }},
            coalesce({{ distance_to_minute('higher.extended_played_at_utc', 'standard.played_at_utc') }}, 9223372036854775807)
        ) as distance_ms
    from standard_windows as standard
    inner join higher_moments as higher
        on higher.listener = standard.listener
        and higher.track_key = standard.track_key
        and higher.moment_bucket = standard.window_bucket
        and higher.moment between standard.played_at_utc - interval 90 second and standard.played_at_utc + interval 90 second
),

{{ mutual_nearest_pairs('standard_candidates', 'standard') }}

plays as (
    select
        higher.*,
        standard_pairs.lower_id as standard_record_id
    from higher_priority_plays as higher
    left join standard_pairs
        on standard_pairs.listener = higher.listener
        and standard_pairs.higher_id = coalesce(higher.api_record_id, higher.extended_record_id)

    union all

    select
        standard.listener,
        'standard' as source,
        standard.played_at_utc,
        null as track_uri,
        standard.track_name,
        standard.artist_name,
        null as album_name,
        null as isrc,
        null as artists_json,
        standard.track_key,
        standard.artist_key,
        null as album_key,
        standard.ms_played,
        false as is_ms_played_estimated,
        null as is_skipped,
        null as is_shuffle,
        null as platform,
        null as reason_start,
        null as reason_end,
        null as is_offline,
        null as is_incognito,
        null as api_record_id,
        null as extended_record_id,
        null as extended_played_at_utc,
        standard.record_id as standard_record_id
    from standard
    where (standard.listener, standard.record_id) not in (select listener, lower_id from standard_pairs)
)

select
    md5(coalesce(api_record_id, extended_record_id, standard_record_id)) as play_id,
    * exclude (extended_played_at_utc),
    list_filter(
        [
            case when api_record_id is not null then 'api' end,
            case when extended_record_id is not null then 'extended' end,
            case when standard_record_id is not null then 'standard' end
        ],
        lambda source_name: source_name is not null
    ) as seen_in_sources,
    api_record_id is not null or ms_played >= 30000 as is_stream,
    cast(played_at_utc as date) as played_on_utc,
    {{ current_batch_at() }} as batch_at
from plays
{% if is_incremental() %}
where (listener, cast(played_at_utc as date)) in (select listener, utc_date from affected_days)
{% endif %}
