"""A tiny Egov core module for the role tests.

Serves JSON over HTTP. ``/healthz`` answers 200 only after a real query to the PostgreSQL
database named by ``EGOV_DATABASE_URL``; a release that holds a ``BROKEN`` file never does.
"""

from __future__ import annotations

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2


def query_database(url: str) -> str:
    with psycopg2.connect(url, connect_timeout=3) as conn, conn.cursor() as cur:
        cur.execute("SELECT current_database()")
        return cur.fetchone()[0]


def health(release: Path) -> tuple[int, dict]:
    if (release / "BROKEN").exists():
        return 503, {"status": "broken release"}
    try:
        database = query_database(os.environ["EGOV_DATABASE_URL"])
    except Exception as exc:  # any failure of the database makes the module unhealthy
        return 503, {"status": "database unreachable", "error": type(exc).__name__}
    return 200, {"status": "ok", "database": database}


def make_handler(name: str, release: Path) -> type[BaseHTTPRequestHandler]:
    version = (release / "VERSION").read_text().strip()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                code, body = health(release)
            elif self.path == "/":
                code, body = 200, {"module": name}
            else:
                code, body = 404, {"status": "not found"}
            self.reply(code, {**body, "version": version})

        def reply(self, code: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    handler = make_handler(args.name, Path.cwd())
    ThreadingHTTPServer((args.bind, args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
