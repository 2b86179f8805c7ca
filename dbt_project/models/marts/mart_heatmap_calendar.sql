-- A GitHub-style calendar per listener: every local date from the first play to the last, with ISO week fields.
select
    listener,
    local_date,
    iso_year,
    iso_week,
    iso_weekday,
    streams
from {{ ref('dim_date') }}
