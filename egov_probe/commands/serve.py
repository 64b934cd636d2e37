"""``egov-probe serve``: the collector (docs/collector.md), HTTPS on uvicorn over the store.

Without ``--certfile`` it speaks plain HTTP on loopback only, behind ``egov_proxy`` (nginx
terminates TLS there); any other address without a certificate is refused.
"""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path

from .common import EXIT_READY
from .store_options import add_store_args, open_store, store_target

NAME = "serve"
HELP = ("chạy dịch vụ thu thập báo cáo qua HTTPS / run the collector: the probes' HTTPS API "
        "and the live readiness page")
DEFAULT_LISTEN = "127.0.0.1:8443"
# Open live pages (server-sent events) are ended as the stop begins (the update bus closes);
# uploads in flight finish well within this.
GRACEFUL_STOP_S = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_args(parser)
    parser.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                        help=f"địa chỉ nghe / address to listen on (default: {DEFAULT_LISTEN})")
    parser.add_argument("--certfile", type=Path, metavar="FILE",
                        help="chứng chỉ TLS (PEM) / the server's certificate chain; without "
                             "it: plain HTTP on loopback only, behind a TLS proxy")
    parser.add_argument("--keyfile", type=Path, metavar="FILE",
                        help="khóa riêng TLS (PEM) / the certificate's private key")
    parser.add_argument("--max-report-bytes", type=int, metavar="N",
                        help="kích thước tối đa của một báo cáo / largest report taken, "
                             "uncompressed (default: 8 MiB)")
    parser.add_argument("--secret-file", type=Path, metavar="FILE",
                        help="bí mật ký phiên đăng nhập / the secret signing viewers' sessions "
                             "(default: $EGOV_COLLECTOR_SECRET, else egov-collector.secret "
                             "beside the SQLite store or in the current folder, made once, "
                             "mode 0600)")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8443`` for IPv6)."""
    from ..core.errors import InputError

    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"expected HOST:PORT, found {text!r}", field="--listen")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(args: argparse.Namespace, host: str) -> None:
    """TLS, or loopback behind a proxy; a certificate that does not load is named."""
    import ssl

    from ..core.errors import InputError

    if args.certfile is None:
        if args.keyfile is not None:
            raise InputError("--keyfile needs --certfile", field="--keyfile")
        if not is_loopback(host):
            raise InputError(f"without --certfile the collector speaks plain HTTP, so it "
                             f"listens on loopback only (behind a TLS proxy); {host} is not "
                             f"loopback: give --certfile and --keyfile", field="--listen")
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            args.certfile, args.keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"cannot load the certificate and key: {exc}",
                         path=str(args.certfile), field="--certfile") from exc


def build_context(args: argparse.Namespace):
    """The collector's context: the store (migrated now, once), the units, the secret; and
    where the store is (for the first line printed)."""
    from ..collector.context import MAX_REPORT_BYTES, CollectorContext
    from ..collector.session_secret import SECRET_FILE, session_secret
    from ..matrix.inventory import load_unit_infos
    from ..store import open_database

    database = open_store(args)
    folder = Path(database.location).parent if database.dialect == "sqlite" else Path.cwd()
    database.close()
    target = store_target(args)
    return CollectorContext(
        open_database=lambda: open_database(target, migrate=False),
        units=load_unit_infos(args.inventory),
        session_secret=session_secret(args.secret_file or folder / SECRET_FILE),
        max_report_bytes=args.max_report_bytes or MAX_REPORT_BYTES), database.location


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..collector.app import build_app
    from ..core.errors import InputError

    host, port = parse_listen(args.listen)
    check_transport(args, host)
    if args.max_report_bytes is not None and args.max_report_bytes < 1024:
        raise InputError(f"expected at least 1024 bytes, found {args.max_report_bytes}",
                         field="--max-report-bytes")
    ctx, location = build_context(args)
    tls = args.certfile is not None
    config = uvicorn.Config(build_app(ctx), host=host, port=port, lifespan="on",
                            ssl_certfile=str(args.certfile) if tls else None,
                            ssl_keyfile=str(args.keyfile) if args.keyfile else None,
                            proxy_headers=not tls, server_header=False, log_level="info",
                            timeout_graceful_shutdown=GRACEFUL_STOP_S)
    print(f"Dịch vụ thu thập / collector: {'https' if tls else 'http'}://{args.listen}, "
          f"kho / store {location}", flush=True)
    server = uvicorn.Server(config)
    stop = server.handle_exit

    def handle_exit(sig, frame) -> None:  # SIGINT, SIGTERM: the open pages' streams end now
        ctx.bus.close()
        stop(sig, frame)

    server.handle_exit = handle_exit  # type: ignore[method-assign]
    server.run()
    return EXIT_READY
