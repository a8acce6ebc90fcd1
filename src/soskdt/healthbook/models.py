"""Models of the healthbook context."""
