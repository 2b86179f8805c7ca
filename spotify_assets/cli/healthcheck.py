"""`spotify-assets healthcheck`: the webserver answers and the daemon is healthy (the container's health check)."""

from __future__ import annotations

from spotify_assets.cli.failures import CommandFailed

DAEMON_HEALTH = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"



def check_health(host: str, port: int) -> None:
    """The webserver answers and every daemon loop the instance requires has a fresh heartbeat."""
    import httpx

    try:
        answer = httpx.post(f"http://{host}:{port}/graphql", json={"query": DAEMON_HEALTH}, timeout=10).json()
        statuses = answer["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
        raise CommandFailed(f"the Dagster webserver on {host}:{port} does not answer ({type(error).__name__})") from None
    unhealthy = sorted(status["daemonType"] for status in statuses if status["required"] and not status["healthy"])
    if unhealthy:
        raise CommandFailed(f"daemon loops without a fresh heartbeat: {', '.join(unhealthy)}")
    print(f"healthy: webserver on {host}:{port}, daemon loops {', '.join(sorted(s['daemonType'] for s in statuses))}")
