"""Organisations and API keys: who is calling, for which organisation, in which role.

One identity database (TANDEM_AUTH_DATABASE_URL) is read by every service; keys are stored hashed.
"""
