"""Models of the sharing context."""
