FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential procps && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY projections projections
COPY schema schema
COPY routes routes
COPY storage storage
COPY cli cli
COPY workers workers
COPY demo demo
COPY setup.py launcher.py server.py runtime.py ./
COPY clients clients
# The server, and the client its import/export commands talk through.
RUN pip install --no-cache-dir . ./clients/python
RUN useradd --create-home modelledger
USER modelledger
EXPOSE 8000
CMD ["modelledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
