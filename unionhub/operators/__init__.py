"""Tools for operators reading unionhub's topics (``unionhub tail``)."""
