"""The mail relay (role egov_mail_relay): a Postfix null client."""

from __future__ import annotations

from checks.catalog import CONVERGE, check

MAIL = ("egov_mail_relay_servers",)
WANTED = {"inet_interfaces": "loopback-only", "mydestination": "",
          "smtp_sasl_auth_enable": "yes", "smtp_tls_mandatory_protocols": ">=TLSv1.2"}


@check("server.postfix.null_client", ("Postfix chỉ chuyển tiếp thư qua TLS có xác thực",
                                      "Postfix is a null client relaying over TLS with SASL"),
       CONVERGE, MAIL)
def test_postfix_null_client(host, record):
    names = [*WANTED, "relayhost", "smtp_tls_security_level"]
    out = host.check_output("postconf " + " ".join(names))
    record.cite("command", "postconf", out)
    conf = {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in out.splitlines())}
    record.observed = conf
    record.expected = {**WANTED, "relayhost": "set",
                       "smtp_tls_security_level": "encrypt|secure|verify|dane"}
    assert all(conf[k] == v for k, v in WANTED.items())
    assert conf["relayhost"]
    assert conf["smtp_tls_security_level"] in ("encrypt", "secure", "verify", "dane", "dane-only")
    assert host.run("postfix check").rc == 0
