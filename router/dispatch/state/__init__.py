"""The dispatch stage's state: changelog keys and values, the local sqlite store, its slot."""
