"""Framework-free building blocks: settings, database, Redis, errors, clock, ids, logging."""
