"""aiohttp applications serving each channel's contract from a scenario."""
