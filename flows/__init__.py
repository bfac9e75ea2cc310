"""Prefect flows: thin wrappers that open a session, call audit_core, log and publish artifacts."""
