"""The domain: aggregates, events, value objects and the metric rules. Pure: no I/O."""
