"""auditround: multi-agency case file audit rounds for a safeguarding partnership."""

__version__ = "0.1.0"
