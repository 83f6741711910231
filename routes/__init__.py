"""HTTP routes beside GraphQL: bulk NDJSON uploads, health and readiness."""
