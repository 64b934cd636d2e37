"""The policy's network, mailbox and signature sections: validated with file, line and key."""

from __future__ import annotations

import pytest

from egov_probe.core.errors import InputError
from egov_probe.judge.policy import load_policy
from tests.servers.policyfile import write_policy


def test_shipped_policy_names_the_province_servers_by_host_name_only():
    from egov_probe.facts.net_dns import literal_addresses
    from egov_probe.facts.net_types import ServiceUrl

    policy = load_policy()
    urls = [e["url"] for e in policy.section("network")["endpoints"]]
    urls += [policy.section("mailbox")[k] for k in ("submission_url", "imap_url")]
    assert all(literal_addresses(ServiceUrl.from_url(u).host) is None for u in urls)
    assert policy.section("mailbox")["password_env"] == "EGOV_MAIL_PASSWORD"


@pytest.mark.parametrize("section, value, key, expected", [
    ("network", {"resolvers": ["10.0.0.1 53"]}, "network.resolvers.0",
     "expected a server as host, host:port or [IPv6]:port"),
    ("network", {"ntp_servers": "ntp.example"}, "network.ntp_servers", "expected a list"),
    ("network", {"endpoints": [{"id": "x", "url": "https://h/", "kind": "https",
                                "resolvers": ["a b"]}]}, "network.endpoints.0.resolvers.0",
     "expected a server"),
    ("network", {"endpoints": [{"id": "x", "url": "ftp://h/", "kind": "https"}]},
     "network.endpoints.0.url", "expected a URL"),
    ("mailbox", {"password_env": "MẬT KHẨU"}, "mailbox.password_env",
     "expected an environment variable name"),
    ("signature", {"vgca_roots": "VGCA"}, "signature.vgca_roots", "expected a list"),
    ("signature", {"vgca_roots": [{"name": "VGCA", "sha256": "AB:CD", "confirmed": False}]},
     "signature.vgca_roots.0.sha256", "expected the certificate's SHA-256 fingerprint"),
    ("signature", {"vgca_roots": [{"name": "VGCA", "sha256": None, "confirmed": True}]},
     "signature.vgca_roots.0", "confirmed: true needs the root's sha256 fingerprint"),
    ("signature", {"vgca_roots": [{"name": "VGCA", "confirmed": False}]},
     "signature.vgca_roots.0", "missing required key 'sha256'"),
    ("signature", {"vgca_root_names": ["VGCA"]}, "signature.vgca_root_names", "unknown key"),
    ("network", {"endpoints": [{"id": "x", "url": "tcp://h", "kind": "tcp"}]},
     "network.endpoints.0", "url: tcp://h: no port given"),
    ("network", {"ca_file": "/khong/co/ca.pem"}, "network.ca_file",
     "expected a readable PEM file on this machine"),
])
def test_bad_values_are_named_by_file_line_and_key(tmp_path, section, value, key, expected):
    path = write_policy(tmp_path, **{section: value})
    with pytest.raises(InputError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:") and key in message and expected in message


def test_a_ca_file_that_is_not_pem_is_an_input_error(tmp_path):
    from egov_probe.facts.network import ProbeSettings

    bad = tmp_path / "ca.pem"
    bad.write_text("không phải chứng thư\n", "utf-8")
    with pytest.raises(InputError) as caught:
        ProbeSettings(ca_file=str(bad))
    assert str(caught.value).startswith(f"{bad}: network.ca_file: not a usable CA file")
