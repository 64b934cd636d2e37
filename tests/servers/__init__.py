"""Real servers the tests start: a test CA, nginx, dnsmasq, Postfix, Dovecot, network namespaces.

Each helper starts its server with its own config directory on loopback (or inside a network
namespace the test made), on a free port, and stops it (no leftover process) when done.
"""
