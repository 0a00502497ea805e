# backplan's HTTP service: the README's `pip install .` then `backplan serve`.
# Data lives in the /data volume (SQLite) unless DATABASE_URL points elsewhere.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY programs ./programs
COPY db ./db
COPY api ./api
RUN pip install . \
    && useradd --create-home --uid 10001 backplan \
    && mkdir /data && chown backplan /data

USER backplan
ENV DATABASE_URL=sqlite:////data/backplan.db
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"]
CMD ["backplan", "serve", "--host", "0.0.0.0"]
