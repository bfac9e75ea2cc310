"""The configuration adapter: ``config/*.yaml`` in, a validated :class:`BoardConfig` out."""

from audit_core.adapters.config.loader import load_config

__all__ = ["load_config"]
