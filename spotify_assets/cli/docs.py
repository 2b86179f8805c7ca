"""`spotify-assets docs`: generate the dbt docs site through the instance, then serve it."""

from __future__ import annotations

import signal

from spotify_assets.cli.failures import CommandFailed
from spotify_assets.cli.prepare import prepare_dbt_manifest
from spotify_assets.cli.runs import failure_reason, run_job
from spotify_assets.settings import SpotifySettings


def serve_docs(settings: SpotifySettings, host: str, port: int, generate: bool, serve: bool) -> None:
    """Generate the dbt docs site through the instance (in the warehouse pool), then serve it until Ctrl-C."""
    from spotify_assets.lib.dbt_docs.serve import docs_server

    if generate:
        prepare_dbt_manifest(settings)
        print("generating the dbt docs site (dbt docs generate)", flush=True)
        result = run_job(settings, "dbt_docs_job")
        if not result.success:
            raise CommandFailed(f"generating the docs failed: {failure_reason(result)}")
        print(f"dbt docs site: {settings.dbt_docs_path / 'index.html'}", flush=True)
    if not serve:
        return
    try:
        server = docs_server(settings.dbt_docs_path, host, port)
    except (FileNotFoundError, OSError) as error:
        raise CommandFailed(str(error)) from None
    print(f"dbt docs on http://{host}:{server.server_address[1]} (Ctrl-C stops)", flush=True)
    # Ctrl-C (SIGINT) and `kill` or `docker stop` (SIGTERM) stop the server, also when the command was started
    # with them ignored (a script's background job inherits SIGINT ignored, and Python then leaves it so).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
