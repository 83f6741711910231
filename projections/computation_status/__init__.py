"""The computation status read model: IN_SYNC / COMPUTING / FAILED per run, from the log."""
