"""Input: the case tables, their row models, reading, cross-table checks, overrides, generate."""
