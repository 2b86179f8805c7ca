"""Removing an export (`spotify-assets exports remove NAME`) as a run in the warehouse pool, so it waits for any other
writer and shows in the UI: landing, raw rows and the partition go (lib/exports/removal.py), and the next build is a
full rebuild without the export's plays."""

from dagster import Config, OpExecutionContext, op

from spotify_assets.defs.partitions import spotify_export_partitions
from spotify_assets.lib.exports.landing import landed_exports, start_removal
from spotify_assets.lib.exports.removal import finish_removals
from spotify_assets.lib.listeners import delete_listener_rows, owner_of_landed_export
from spotify_assets.lib.raw_tables import create_raw_tables
from spotify_assets.lib.transformations import build_state
from spotify_assets.lib.warehouse import WAREHOUSE_POOL, warehouse_connection
from spotify_assets.settings import SpotifySettings


class RemovalConfig(Config):
    export_hash: str  # the content hash of the landed export to remove


@op(pool=WAREHOUSE_POOL, description="Takes one export out of landing and the raw tables; the next build rebuilds "
    "every model without it.")
def remove_spotify_export(context: OpExecutionContext, config: RemovalConfig, spotify_settings: SpotifySettings):
    owner = owner_of_landed_export(spotify_settings.data_path, config.export_hash) or spotify_settings.listener_name
    landing = spotify_settings.for_listener(owner).exports_landing_path
    for landed in landed_exports(landing):
        if landed.export_hash == config.export_hash:
            build_state.require_rebuild(spotify_settings, f"the export {landed.name} was removed since the warehouse "
                                                          "was built")
            start_removal(landed)
    with warehouse_connection(spotify_settings) as connection:
        for name in finish_removals(connection, landing):
            context.log.info(f"Removed {name}: its landing folder and its raw rows are gone.")
    if context.instance.has_dynamic_partition(spotify_export_partitions.name, config.export_hash):
        context.instance.delete_dynamic_partition(spotify_export_partitions.name, config.export_hash)


class ListenerRemovalConfig(Config):
    listener: str  # the listener whose remaining raw rows go (its exports were removed one by one before)


@op(pool=WAREHOUSE_POOL, description="Takes a removed listener's remaining raw rows (its polls, Spotify's view of it) "
    "out of the raw tables; the next build rebuilds every model without them (`spotify-assets listener remove`).")
def remove_listener_rows(context: OpExecutionContext, config: ListenerRemovalConfig, spotify_settings: SpotifySettings):
    build_state.require_rebuild(spotify_settings, f"the listener {config.listener} was removed since the warehouse "
                                                  "was built")
    with warehouse_connection(spotify_settings) as connection:
        create_raw_tables(connection)
        delete_listener_rows(connection, config.listener)
    context.log.info(f"Removed the raw rows of the listener {config.listener}.")
