"""`spotify-assets listener add NAME | list | remove NAME`: the listeners this installation serves."""

from __future__ import annotations

import sys

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.lib import listeners
from spotify_assets.settings import SpotifySettings


def add_listener(settings: SpotifySettings, name: str, timezone: str | None, inbox: str | None,
                 share_with_friends: bool) -> None:
    values = {key: value for key, value in (("timezone", timezone), ("inbox", inbox)) if value is not None}
    if share_with_friends:
        values["share_with_friends"] = "true"
    try:
        new = listeners.add(settings.data_path, name, values)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    terminal.say(f"listener {name} added: time zone {new.setting('timezone')}, inbox {new.inbox_path}, "
                 f"{'shares' if new.setting('share_with_friends') else 'does not share'} with friends")
    terminal.say(f"its credentials file: {new.credentials_path} (readable by you only); next: "
                 f"`spotify-assets auth --listener {name}`, or `spotify-assets import --listener {name} PATH`")


def list_listeners(settings: SpotifySettings) -> None:
    """One line per listener: name, time zone, inbox, authorization, friends, published marts."""
    rows = [("listener", "time zone", "authorized", "friends", "inbox", "published marts")]
    for name in listeners.listener_names(settings.data_path):
        each = listeners.Listener(name, settings.data_path)
        marts = each.published_marts_path
        rows.append((name, str(each.setting("timezone")), "yes" if each.is_authorized else "no",
                     "shares" if each.setting("share_with_friends") else "-", str(each.inbox_path),
                     str(marts) if marts.exists() else "(none yet)"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        terminal.say("  ".join(value.ljust(width) for value, width in zip(row, widths)) + "  " + row[-1])


def remove_listener(settings: SpotifySettings, name: str, yes: bool) -> None:
    """Asks first (unless --yes), then deletes the listener's settings, folder (credentials, inbox, landing, report)
    and published marts, and nobody else's."""
    try:
        listeners.removable(settings.data_path, name)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    if not yes:
        if not sys.stdin.isatty():
            raise CommandFailed(f"removing {name} deletes its landing, raw rows and marts for good: give --yes to "
                                "confirm (no terminal to ask on)")
        answer = input(f"Remove the listener {name} with its landing, raw rows, marts and report? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            terminal.say(f"{name} kept")
            return
    from spotify_assets.cli.exports import remove_export
    from spotify_assets.cli.runs import (
        COMMAND_TAG,
        failure_reason,
        run_job,
        update_warehouse,
    )
    from spotify_assets.lib.exports.landing import landed_exports, removals_under_way

    own = settings.for_listener(name)
    for landed in landed_exports(own.exports_landing_path) + removals_under_way(own.exports_landing_path):
        remove_export(own, landed.export_hash, build=False)
    if settings.warehouse_path.exists():  # its other raw rows, in the warehouse pool as every writer
        result = run_job(settings, "remove_listener_rows_job",
                         run_config={"ops": {"remove_listener_rows": {"config": {"listener": name}}}},
                         tags={listeners.LISTENER_TAG: name, COMMAND_TAG: "listener remove"})
        if not result.success:
            raise CommandFailed(f"removing the raw rows of {name} failed ({failure_reason(result)}); see run "
                                f"{result.run_id} in the Dagster UI")
    deleted = listeners.remove_files(settings.data_path, name)
    terminal.say(f"listener {name} removed: {', '.join(str(path) for path in deleted) or 'it had no files yet'}")
    if settings.warehouse_path.exists():
        update_warehouse(settings, "listener remove")
