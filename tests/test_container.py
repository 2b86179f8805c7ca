"""The Dockerfile, read as a reviewer would (no Docker engine runs here): it installs exactly what the README
installs, keeps the instance and the data on volumes, runs the webserver and the daemon, and checks its health
with the command tests/test_dagster_ui.py runs against a live UI."""

from conftest import PROJECT_ROOT


def instructions() -> list[tuple[str, str]]:
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_the_image_installs_what_the_readme_installs():
    runs = [argument for name, argument in instructions() if name == "RUN"]
    assert "make install" in runs  # the README's `make demo` and `make test` both start with `make install`
    # The PostgreSQL and Docker variants (deploy/), as the README's "Running in a container, and beyond one machine" says.
    assert ".venv/bin/pip install --quiet -e '.[docker]'" in runs
    makefile = (PROJECT_ROOT / "Makefile").read_text().splitlines()
    # `make test` adds the test extra on top of what `install` makes; the image needs none of it.
    assert "demo: install" in makefile and "$(TEST_STAMP): $(STAMP)" in makefile and "test: $(TEST_STAMP)" in makefile


def test_instance_and_data_live_on_volumes():
    found = dict(instructions())
    assert '"/data"' in found["VOLUME"] and '"/dagster_home"' in found["VOLUME"]
    assert "SPOTIFY_DATA_DIR=/data" in found["ENV"] and "DAGSTER_HOME=/dagster_home" in found["ENV"]


def test_it_serves_the_webserver_and_daemon_with_a_health_check():
    found = dict(instructions())
    assert '"ui", "--host", "0.0.0.0", "--port", "3000"' in found["CMD"]
    assert '"healthcheck", "--port", "3000"' in found["HEALTHCHECK"]
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv/", "data/", "dbt_project/target/"} <= set(ignored)  # the image builds its own, never copies ours
