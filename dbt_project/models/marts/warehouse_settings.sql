-- The settings each listener's marts were computed with, so every reader (the report, the summary, SQL users) labels
-- the figures with the time zone they are in, whatever its own environment says.
select listener, listener_timezone as timezone
from {{ ref('stg_installation__listeners') }}
