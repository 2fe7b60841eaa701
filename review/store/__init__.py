"""The queryable case store: one interface, SQLite embedded by default, PostgreSQL to deploy."""
