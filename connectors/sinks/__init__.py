"""Reply sinks: tell the worker's channel of its case's resolves and closes (caseloop.md)."""
