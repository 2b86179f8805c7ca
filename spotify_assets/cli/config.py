"""`spotify-assets config show | set KEY VALUE | unset KEY`: the settings kept in the data folder."""

from __future__ import annotations

import os

from spotify_assets.cli import terminal
from spotify_assets.cli.failures import CommandFailed
from spotify_assets.lib import configuration
from spotify_assets.settings import SpotifySettings


def show_settings(settings: SpotifySettings) -> None:
    """Each setting, its value and where it came from; secrets only say whether they are set."""
    folder = settings.data_path
    data_source = "environment" if os.environ.get(configuration.DATA_DIR_VARIABLE) else "default"
    terminal.say(f"{'data folder':<28} {str(folder):<40} {data_source} ({configuration.DATA_DIR_VARIABLE})")
    from spotify_assets.instance.home import dagster_home_path

    home_source = "environment (DAGSTER_HOME)" if os.environ.get("DAGSTER_HOME") else "default"
    terminal.say(f"{'Dagster instance':<28} {str(dagster_home_path(settings)):<40} {home_source}")
    terminal.say(f"{'settings file':<28} {configuration.settings_file(folder)}"
                 + ("" if configuration.settings_file(folder).exists() else " (none yet)"))
    terminal.say("")
    for setting in configuration.SETTINGS:
        resolved = configuration.resolve(setting.key, folder)
        if setting.secret:
            shown = "(set)" if resolved.text else "(not set)"
        elif setting.key == "inbox" and resolved.text is None:
            shown, resolved = str(settings.inbox_path), configuration.Resolved(setting, None, configuration.DEFAULT)
        else:
            shown = resolved.text if resolved.text is not None else "(none)"
        where = resolved.source if resolved.source != configuration.ENVIRONMENT else f"environment ({setting.variable})"
        terminal.say(f"{setting.key:<28} {shown:<40} {where}")
    unknown = sorted(set(configuration.stored_settings(folder)) - set(configuration.BY_KEY) - {"listeners"})
    if unknown:
        terminal.say(f"\nignored in the settings file (no such setting): {', '.join(unknown)}")


def set_setting(settings: SpotifySettings, key: str, text: str) -> None:
    try:
        before = configuration.resolve(key, settings.data_path) if key in configuration.BY_KEY else None
        resolved = configuration.store(settings.data_path, key, text)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    setting = resolved.setting
    where = ("the credentials file (readable by you only)" if setting.secret
             else str(configuration.settings_file(settings.data_path)))
    terminal.say(f"{key} = {'(set)' if setting.secret else text}: kept in {where}")
    if resolved.source == configuration.ENVIRONMENT:
        terminal.warn(f"note: {setting.variable} is set in this environment, and overrides it for every command "
                      "started from here")
    elif setting.applies and before is not None and before.text != resolved.text:
        terminal.say(setting.applies)


def unset_setting(settings: SpotifySettings, key: str) -> None:
    try:
        before = configuration.resolve(key, settings.data_path)
        removed = configuration.remove(settings.data_path, key)
    except ValueError as error:
        raise CommandFailed(str(error)) from None
    resolved = configuration.resolve(key, settings.data_path)
    now = "(set)" if resolved.setting.secret and resolved.text else resolved.text or "(none)"
    terminal.say(f"{key}: {'removed' if removed else 'was not set'}; now {now} ({resolved.source})")
    if resolved.setting.applies and before.text != resolved.text:
        terminal.say(resolved.setting.applies)
