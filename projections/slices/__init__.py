"""The saved slices read model: each model's live slices with their filters."""
