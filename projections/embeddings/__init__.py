"""The embeddings read model: each dataset's embedding spaces and their vectors by version."""
