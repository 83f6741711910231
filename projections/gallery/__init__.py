"""The gallery: a run's data rows filtered, sorted and paged, and the slices built on it."""
