"""Tests that drive the portal in a real browser (Debian's chromium, through Playwright)."""
