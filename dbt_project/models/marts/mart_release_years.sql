-- The era of your music: streams and minutes by the release year of what you streamed (dim_track.release_year, where
-- the catalog knows it), all time, per listener. One row per release year, and one with a null year for tracks of
-- unknown release, so the shares show how much the catalog covers.
select
    listener,
    release_year,
    cast(floor(release_year / 10) * 10 as integer) as decade,
    cast(count(*) as bigint) as tracks,
    cast(sum(streams) as bigint) as streams,
    sum(ms_played) / 60000.0 as minutes,
    sum(streams) / sum(sum(streams)) over (partition by listener) as share_of_streams
from {{ ref('dim_track') }}
where streams > 0
group by listener, release_year
order by listener, release_year nulls last
