"""Pure functions over records: no processes, no I/O."""
