# The same installation as the README (`make install`), running the Dagster webserver and daemon
# (`spotify-assets ui`). Volumes: /data (landing, warehouse, published marts, reports, the inbox) and
# /dagster_home (the instance: runs, event logs, schedule and sensor state).
#   docker build -t spotify-assets .
#   docker run -p 127.0.0.1:3000:3000 -v spotify-data:/data -v spotify-dagster:/dagster_home spotify-assets
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# The PostgreSQL instance variants too (deploy/postgres/, deploy/docker/), for a container among others.
RUN make install
RUN .venv/bin/pip install --quiet -e '.[docker]'
ENV SPOTIFY_DATA_DIR=/data \
    DAGSTER_HOME=/dagster_home
VOLUME ["/data", "/dagster_home"]
EXPOSE 3000
# Healthy when the webserver answers and the daemon's sensor, scheduler and automation loops have a fresh heartbeat.
HEALTHCHECK --interval=30s --timeout=15s --start-period=180s --retries=3 \
    CMD [".venv/bin/spotify-assets", "healthcheck", "--port", "3000"]
CMD [".venv/bin/spotify-assets", "ui", "--host", "0.0.0.0", "--port", "3000"]
