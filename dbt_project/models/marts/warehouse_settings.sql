-- The settings the marts were computed with, so every reader (the report, the summary, SQL users) labels the
-- figures with the time zone they are in, whatever its own environment says.
select cast('{{ var("timezone") }}' as varchar) as timezone
