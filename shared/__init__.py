"""Contracts and infrastructure shared by the Tandem services; no business logic lives here."""
