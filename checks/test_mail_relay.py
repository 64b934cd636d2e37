"""The mail relay (role egov_mail_relay): a Postfix null client."""

from __future__ import annotations

from checks.catalog import CONVERGE, check

MAIL = ("egov_mail_relay_servers",)
# TLS levels that verify the relay's certificate before the SASL password is sent.
VERIFYING = ("secure", "verify", "dane-only", "fingerprint")
WANTED = {"inet_interfaces": "loopback-only", "mydestination": "",
          "smtp_sasl_auth_enable": "yes", "smtp_tls_mandatory_protocols": ">=TLSv1.2"}


@check("server.postfix.null_client", ("Postfix chỉ chuyển tiếp thư qua TLS đã kiểm tra chứng chỉ",
                                      "Postfix relays only over TLS with a verified certificate"),
       CONVERGE, MAIL)
def test_postfix_null_client(host, record):
    names = [*WANTED, "relayhost", "smtp_tls_security_level", "smtp_tls_CAfile"]
    out = host.check_output("postconf " + " ".join(names))
    record.cite("command", "postconf", out)
    conf = {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in out.splitlines())}
    record.observed = conf
    record.expected = {**WANTED, "relayhost": "set",
                       "smtp_tls_security_level": "|".join(VERIFYING),
                       "smtp_tls_CAfile": "a file of CA certificates"}
    assert all(conf[k] == v for k, v in WANTED.items())
    assert conf["relayhost"]
    assert host.run("postfix check").rc == 0
    assert conf["smtp_tls_security_level"] in VERIFYING, (
        f"smtp_tls_security_level {conf['smtp_tls_security_level']} does not verify the relay's "
        "certificate: the SASL password may go to whoever sits in the middle")
    if conf["smtp_tls_security_level"] in ("secure", "verify"):
        ca_file = host.file(conf["smtp_tls_CAfile"])
        assert ca_file.exists and "BEGIN CERTIFICATE" in ca_file.content_string, (
            f"no CA certificate in {conf['smtp_tls_CAfile']}")
