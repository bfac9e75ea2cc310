"""A secure link carries a random token; only the token's hash is kept."""

from __future__ import annotations

import re

from audit_core.domain import tokens


def test_a_token_is_32_random_bytes_in_url_safe_text() -> None:
    token = tokens.new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert token != tokens.new_token()


def test_only_a_sha256_hash_is_kept_and_it_matches_only_its_token() -> None:
    token = tokens.new_token()
    kept = tokens.hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", kept)
    assert token not in kept
    assert tokens.matches(token, kept)
    assert not tokens.matches(tokens.new_token(), kept)
    assert not tokens.matches("é", kept)


def test_the_link_starts_with_the_public_address() -> None:
    link = tokens.return_link("https://audits.chscp.example.org/", "abc")
    assert link == "https://audits.chscp.example.org/return/abc"
