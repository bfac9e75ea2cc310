"""The Jinja2 templates (email/, later briefing/ and portal/): audit_core.templates."""
