"""Models of the ingestion context."""
