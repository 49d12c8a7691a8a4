"""API routes of this feature."""
