"""The fraud service."""
