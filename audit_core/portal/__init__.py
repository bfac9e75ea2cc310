"""The portal: the auditor's return form and the business unit's dashboard, on the web.

An entry point like the CLI: FastAPI routes over the same use cases, wired by the
composition root (:class:`audit_core.bootstrap.App`). Pages are plain HTML from
Jinja2 (``templates/portal/``), with no script: every form posts, and every POST
carries a CSRF token in a hidden field.

- :mod:`.app`: :func:`~.app.create_app`, the ASGI application;
- :mod:`.web`: templates, the 404 page, the request's ``App``;
- :mod:`.security`: the security headers and the rate limits;
- :mod:`.returns`: ``/return/{token}``, the auditor's form;
- :mod:`.auth` and :mod:`.dashboard`: sign-in and the business unit's pages;
- :mod:`.server`: ``auditround portal``, uvicorn with a redacted access log.
"""
