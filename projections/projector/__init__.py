"""The projector read model: each projection's request, status and coordinates."""
