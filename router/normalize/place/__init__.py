"""属地: placing a report in a Shenzhen district (gazetteer + the routing rules of dispatch.md)."""
