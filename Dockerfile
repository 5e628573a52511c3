# zombie-probes: the monitor as a small image.
#
#   docker build -t zombie-probes .
#   docker run -v $PWD/config.yaml:/etc/zombie-probes/config.yaml:ro \
#              -v zombie-state:/var/lib/zombie-probes -p 9705:9705 zombie-probes
#
# The config is mounted at /etc/zombie-probes/config.yaml; point its `state_path` into
# /var/lib/zombie-probes (a volume) so the history survives the container.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY probes ./probes
RUN pip install --no-cache-dir --prefix=/install ".[fast]"

FROM python:3.11-slim
LABEL org.opencontainers.image.title="zombie-probes" \
      org.opencontainers.image.description="Finds zombie government service channels and exports Prometheus metrics" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /install /usr/local
RUN groupadd --system --gid 10001 probes \
 && useradd --system --uid 10001 --gid probes --home-dir /var/lib/zombie-probes \
            --shell /usr/sbin/nologin probes \
 && mkdir -p /etc/zombie-probes /var/lib/zombie-probes \
 && chown probes:probes /var/lib/zombie-probes
USER 10001:10001
WORKDIR /var/lib/zombie-probes
VOLUME ["/var/lib/zombie-probes"]
EXPOSE 9705
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9705/-/healthy', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["zombie-probes"]
CMD ["serve", "-c", "/etc/zombie-probes/config.yaml", "--listen", "0.0.0.0:9705"]
