"""Settings: a field set on the resource wins, then the environment variable (read when used), then the default."""

import pytest

from spotify_assets.settings import SpotifySettings


@pytest.mark.parametrize("field, variable, value, default, read", [
    ("catalog_lookups_per_run", "SPOTIFY_CATALOG_LOOKUPS_PER_RUN", 7, 200, lambda s: s.catalog_lookups),
    ("lastfm_lookups_per_run", "LASTFM_LOOKUPS_PER_RUN", 9, 300, lambda s: s.lastfm_lookups),
    ("catalog_requests_per_second", "SPOTIFY_CATALOG_REQUESTS_PER_SECOND", 4.0, 0.1, lambda s: s.catalog_pause_seconds),
    ("dbt_docs_url", "SPOTIFY_DBT_DOCS_URL", "http://docs.example/", "http://127.0.0.1:8080", lambda s: s.dbt_docs_base_url),
])
def test_a_field_wins_over_the_environment_which_wins_over_the_default(field, variable, value, default, read,
                                                                       monkeypatch):
    monkeypatch.delenv(variable, raising=False)
    assert read(SpotifySettings()) == default
    monkeypatch.setenv(variable, "2" if field != "dbt_docs_url" else "http://from.environment/")
    from_environment = read(SpotifySettings())
    assert from_environment != default
    configured = read(SpotifySettings(**{field: value}))
    assert configured not in (default, from_environment)


def test_a_bad_time_zone_names_its_setting():
    with pytest.raises(ValueError, match="timezone='Mars/Olympus': not an IANA time zone name"):
        SpotifySettings(timezone="Mars/Olympus").timezone_name
