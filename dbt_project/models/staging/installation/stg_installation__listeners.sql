-- One row per listener of the installation, with the settings the models read.
select
    listener,
    timezone as listener_timezone,
    share_with_friends
from {{ source('installation', 'listeners') }}
