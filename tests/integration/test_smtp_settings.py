"""Mail settings come from the environment; wrong ones are named; certificates are verified."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
from support.rounds import MAIL_FROM
from support.tls import self_signed_context

from audit_core.adapters import smtp_sink
from audit_core.adapters.settings import SmtpSettings, mail_from_env
from audit_core.adapters.smtp_transport import SendFailure, SmtpTransport
from audit_core.domain.errors import MailError


def test_the_settings_are_read_from_the_environment() -> None:
    settings = mail_from_env(
        {
            "AUDITROUND_SMTP_HOST": "smtp.example.org",
            "AUDITROUND_SMTP_SECURITY": "ssl",
            "AUDITROUND_SMTP_USER": "audits",
            "AUDITROUND_SMTP_PASSWORD": "s3cret",
            "AUDITROUND_MAIL_FROM": MAIL_FROM,
            "AUDITROUND_PUBLIC_URL": "https://audits.chscp.example.org/",
        }
    )
    assert (settings.host, settings.port, settings.security) == ("smtp.example.org", 465, "ssl")
    assert settings.sender_address == "case-audits@chscp.example.org"
    assert settings.sender_domain == "chscp.example.org"
    assert settings.public_url == "https://audits.chscp.example.org"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("security", "port"), [("none", 25), ("starttls", 587), ("ssl", 465), ("", 587)]
)
def test_the_port_follows_the_security_unless_given(security: str, port: int) -> None:
    settings = mail_from_env({"AUDITROUND_SMTP_SECURITY": security})
    assert settings.port == port


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("AUDITROUND_SMTP_SECURITY", "tls", "AUDITROUND_SMTP_SECURITY"),
        ("AUDITROUND_SMTP_PORT", "smtp", "AUDITROUND_SMTP_PORT"),
        ("AUDITROUND_SMTP_PORT", "70000", "AUDITROUND_SMTP_PORT"),
        ("AUDITROUND_SMTP_TIMEOUT", "soon", "AUDITROUND_SMTP_TIMEOUT"),
    ],
)
def test_a_wrong_value_is_named(variable: str, value: str, named: str) -> None:
    with pytest.raises(MailError, match=named):
        mail_from_env({variable: value})


def test_every_wrong_value_is_named_at_once() -> None:
    with pytest.raises(MailError) as wrong:
        mail_from_env(
            {
                "AUDITROUND_SMTP_SECURITY": "tls",
                "AUDITROUND_SMTP_PORT": "smtp",
                "AUDITROUND_SMTP_TIMEOUT": "soon",
            }
        )
    for named in ("AUDITROUND_SMTP_SECURITY", "AUDITROUND_SMTP_PORT", "AUDITROUND_SMTP_TIMEOUT"):
        assert named in str(wrong.value)


def test_only_the_variables_given_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITROUND_SMTP_HOST", "smtp.elsewhere.example.org")
    monkeypatch.setenv("AUDITROUND_SMTP_PORT", "2525")
    settings = mail_from_env({"AUDITROUND_SMTP_SECURITY": "ssl"})
    assert (settings.host, settings.port, settings.security) == ("", 465, "ssl")


def test_sending_needs_a_server_and_composing_needs_a_sender_and_a_public_address() -> None:
    with pytest.raises(MailError, match="AUDITROUND_SMTP_HOST"):
        SmtpSettings().check_sending()
    with pytest.raises(MailError, match="AUDITROUND_MAIL_FROM"):
        SmtpSettings(public_url="https://a.example.org").check_composing()
    with pytest.raises(MailError, match="AUDITROUND_PUBLIC_URL"):
        SmtpSettings(mail_from=MAIL_FROM, public_url="audits.example.org").check_composing()


def test_a_malformed_public_address_is_called_malformed_not_missing() -> None:
    with pytest.raises(MailError) as wrong:
        SmtpSettings(mail_from=MAIL_FROM, public_url="audits.example.org").check_composing()
    message = str(wrong.value)
    assert "AUDITROUND_PUBLIC_URL is 'audits.example.org', which is not a web address" in message
    assert "not set" not in message
    with pytest.raises(MailError, match="AUDITROUND_MAIL_FROM is 'audits', which is not an email"):
        SmtpSettings(mail_from="audits", public_url="https://a.example.org").check_sender()


def test_every_missing_launch_setting_is_named_at_once() -> None:
    with pytest.raises(MailError) as missing:
        SmtpSettings().check(sending=True, links=True)
    message = str(missing.value)
    for named in ("AUDITROUND_SMTP_HOST", "AUDITROUND_MAIL_FROM", "AUDITROUND_PUBLIC_URL"):
        assert f"{named} is not set" in message
    with pytest.raises(MailError) as wrong:
        SmtpSettings(mail_from="audits", public_url="audits.example.org").check(
            sending=True, links=True
        )
    for named in ("AUDITROUND_SMTP_HOST", "AUDITROUND_MAIL_FROM", "AUDITROUND_PUBLIC_URL"):
        assert named in str(wrong.value)


def test_a_password_is_never_sent_unencrypted_to_another_machine() -> None:
    settings = SmtpSettings(host="smtp.example.org", security="none", user="audits")
    with pytest.raises(MailError, match="unencrypted"):
        settings.check_sending()
    SmtpSettings(host="127.0.0.1", security="none", user="audits").check_sending()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ssl.SSLContext]:
    """A server context with a certificate no client trusts."""
    yield self_signed_context(tmp_path_factory.mktemp("tls"))


def test_starttls_refuses_a_server_whose_certificate_cannot_be_verified(
    self_signed: ssl.SSLContext,
) -> None:
    with smtp_sink.running(tls_context=self_signed, require_starttls=False) as server:
        settings = SmtpSettings(host=server.host, port=server.port, security="starttls")
        transport = SmtpTransport(settings)
        with pytest.raises(SendFailure) as refused:
            transport.send("a@chscp.example.org", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n")
        transport.close()
    assert refused.value.connecting
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.detail
    assert "STARTTLS failed" in refused.value.detail
    assert "AUDITROUND_SMTP_SECURITY=ssl" in refused.value.detail
    assert server.count == 0


def test_a_server_that_offers_no_starttls_is_named_with_the_setting_that_fixes_it() -> None:
    with smtp_sink.running() as server:  # plain SMTP: STARTTLS is not offered
        settings = SmtpSettings(host=server.host, port=server.port, security="starttls")
        transport = SmtpTransport(settings)
        with pytest.raises(SendFailure) as refused:
            transport.send("a@chscp.example.org", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n")
        transport.close()
    assert refused.value.connecting
    assert "the mail server's STARTTLS failed" in refused.value.detail
    assert "STARTTLS extension not supported" in refused.value.detail
    assert "AUDITROUND_SMTP_SECURITY=none" in refused.value.detail
    assert server.count == 0


def test_implicit_tls_refuses_a_server_whose_certificate_cannot_be_verified(
    self_signed: ssl.SSLContext,
) -> None:
    with smtp_sink.running(ssl_context=self_signed) as server:
        settings = SmtpSettings(host=server.host, port=server.port, security="ssl")
        transport = SmtpTransport(settings)
        with pytest.raises(SendFailure) as refused:
            transport.send("a@chscp.example.org", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n")
        transport.close()
    assert refused.value.connecting
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.detail
    assert server.count == 0
