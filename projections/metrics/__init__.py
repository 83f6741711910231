"""The metrics read model: match tables of metric computations and custom metric values,
materialised by a projection and cut at any grid point at query time (queries.py)."""
