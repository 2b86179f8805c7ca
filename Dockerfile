# The same installation as the README (`make install`), serving the Dagster UI and daemon.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
ENV SPOTIFY_DATA_DIR=/data \
    DAGSTER_HOME=/data/dagster_home
RUN make install
VOLUME ["/data"]
EXPOSE 3000
CMD [".venv/bin/spotify-assets", "ui", "--host", "0.0.0.0", "--port", "3000"]
