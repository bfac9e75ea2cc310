"""The embedded scheduler (``auditround scheduler``): APScheduler 3 on one machine."""
