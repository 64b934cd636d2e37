"""The parsing parts of the server checks' probes, on outputs captured from real tools."""

from __future__ import annotations

import pytest

from checks.netprobe import client_suites, negotiated_cipher

pytestmark = pytest.mark.servers

# openssl s_client 3.0 (Debian 12) that left before printing the session block (TLS 1.3).
TLS13_SHORT = """CONNECTED(00000003)
---
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Server public key is 256 bit
"""
# A TLS 1.2 handshake with the session block.
TLS12_FULL = """New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256
SSL-Session:
    Protocol  : TLSv1.2
    Cipher    : ECDHE-RSA-AES128-GCM-SHA256
"""
# A refused suite.
REFUSED = """CONNECTED(00000003)
40C7:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure
New, (NONE), Cipher is (NONE)
SSL-Session:
    Cipher    : 0000
"""


@pytest.mark.parametrize("output, suite", [(TLS13_SHORT, "TLS_AES_256_GCM_SHA384"),
                                           (TLS12_FULL, "ECDHE-RSA-AES128-GCM-SHA256"),
                                           (REFUSED, None)])
def test_negotiated_cipher(output, suite):
    assert negotiated_cipher(output) == suite


def test_client_offers_tls12_and_tls13_suites_apart():
    tls12, tls13 = client_suites("tls1_2"), client_suites("tls1_3")
    assert "ECDHE-RSA-AES128-GCM-SHA256" in tls12 and "AES128-SHA" in tls12  # weak ones are offered too
    assert not set(tls12) & set(tls13)
    assert {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_SHA256"} <= set(tls13)
