"""Models of the wallet context."""
