"""The SQLite state: one store, one module per area's tables and queries."""
