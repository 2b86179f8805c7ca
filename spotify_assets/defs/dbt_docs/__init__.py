"""The dbt docs site: generated as an asset in the warehouse pool, served by `spotify-assets docs`."""
