"""One module per upstream channel, each registering its source type."""
