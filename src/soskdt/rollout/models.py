"""Models of the rollout context."""
