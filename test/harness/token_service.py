#!/usr/bin/env python3
"""token_service.py -- a loopback stand-in for Microsoft Entra ID and IMDS.

Plays the two token endpoints telem_fdw's Azure bearer authentication talks
to, on 127.0.0.1 (python3 standard library only; started by tokens.sh):

  POST /{tenant}/oauth2/v2.0/token        client credentials (form body:
        grant_type=client_credentials, client_id, client_secret,
        scope={resource}/.default).  A wrong tenant, client id or secret is
        refused with 401 {"error": "invalid_client", ...}; another grant type
        or a scope without "/.default" with 400, as Entra ID does.
  GET  /metadata/identity/oauth2/token?api-version=..&resource=R[&client_id=C]
        managed identity (IMDS).  Needs the header "Metadata: true" (400
        otherwise).  Without client_id it is the system-assigned identity;
        with one, it must be one of --mi-client-id (400 "Identity not found"
        otherwise).  Numbers come back as strings, as IMDS sends them.
  GET  /stats                              {"client_credentials": N,
        "managed_identity": N, "refused": N, "by_identity": {...}}
  GET  /health                             200 "ok"
  POST /control/fail  {"count": N, "status": S}
        the next N token requests get HTTP S (e.g. 503) instead of a token.

Tokens are well-formed JWTs with a dummy RS256 signature: Azurite's
`--oauth basic` decodes them and checks nbf/iat/exp, the issuer prefix
(https://sts.windows.net/ here) and the audience (the requested resource,
e.g. https://storage.azure.com), not the signature.  They live --lifetime
seconds (default 4), so a client must refresh during a test.

usage: token_service.py --port-file F --label L --tenant T --client-id C
                        --client-secret S [--mi-client-id C]... [--lifetime S]
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ISSUER = "https://sts.windows.net/{tenant}/"
IMDS_API_VERSIONS = {"2018-02-01", "2019-08-01", "2021-02-01"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class State:
    """Settings from the command line plus counters, shared by all threads."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counts = {"client_credentials": 0, "managed_identity": 0, "refused": 0}
        self.by_identity = {}
        self.fail_count = 0
        self.fail_status = 503
        # distinct, stable object ids per identity
        self.system_oid = str(uuid.uuid5(uuid.NAMESPACE_URL, "telem-mi-system"))

    def issued(self, flow, identity):
        with self.lock:
            self.counts[flow] += 1
            self.by_identity[identity] = self.by_identity.get(identity, 0) + 1

    def refused(self):
        with self.lock:
            self.counts["refused"] += 1

    def take_fault(self):
        with self.lock:
            if self.fail_count > 0:
                self.fail_count -= 1
                return self.fail_status
            return None

    def make_jwt(self, audience, appid, oid):
        now = int(time.time())
        exp = now + self.args.lifetime
        header = {"typ": "JWT", "alg": "RS256", "kid": "telem-test-key"}
        claims = {
            "aud": audience,
            "iss": ISSUER.format(tenant=self.args.tenant),
            "iat": now,
            "nbf": now,
            "exp": exp,
            "appid": appid,
            "oid": oid,
            "sub": oid,
            "tid": self.args.tenant,
            "idtyp": "app",
            "uti": uuid.uuid4().hex,
            "ver": "1.0",
        }
        token = ".".join([
            b64url(json.dumps(header, separators=(",", ":")).encode()),
            b64url(json.dumps(claims, separators=(",", ":")).encode()),
            b64url(os.urandom(64)),  # not a signature; nobody checks it
        ])
        return token, now, exp


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "telem-token-service"

    def log_message(self, fmt, *args):
        # requests carry secrets in their bodies only; the line is safe
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    @property
    def state(self):
        return self.server.state

    def send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, status, error, description):
        self.state.refused()
        self.send_json(status, {
            "error": error,
            "error_description": description,
            "error_codes": [7000215 if error == "invalid_client" else 90014],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": str(uuid.uuid4()),
        })

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def fault(self):
        status = self.state.take_fault()
        if status is None:
            return False
        self.send_json(status, {"error": "temporarily_unavailable",
                                "error_description": "injected fault"},
                       [("Retry-After", "1")] if status in (429, 503) else [])
        return True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif url.path == "/stats":
            with self.state.lock:
                stats = dict(self.state.counts)
                stats["by_identity"] = dict(self.state.by_identity)
            self.send_json(200, stats)
        elif url.path == "/metadata/identity/oauth2/token":
            self.imds(urllib.parse.parse_qs(url.query))
        else:
            self.send_json(404, {"error": "not_found", "error_description": url.path})

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        parts = url.path.strip("/").split("/")
        if url.path == "/control/fail":
            req = json.loads(body or b"{}")
            with self.state.lock:
                self.state.fail_count = int(req.get("count", 1))
                self.state.fail_status = int(req.get("status", 503))
            self.send_json(200, {"armed": self.state.fail_count})
        elif len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            self.client_credentials(parts[0], body)
        else:
            self.send_json(404, {"error": "not_found", "error_description": url.path})

    def client_credentials(self, tenant, body):
        args = self.state.args
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded":
            return self.refuse(400, "invalid_request",
                               "AADSTS900144: the request body must be a form")
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                     keep_blank_values=True)
        field = lambda name: (form.get(name) or [""])[0]
        if self.fault():
            return
        if tenant != args.tenant:
            return self.refuse(400, "invalid_request",
                               "AADSTS90002: Tenant '%s' not found." % tenant)
        if field("grant_type") != "client_credentials":
            return self.refuse(400, "unsupported_grant_type",
                               "AADSTS70003: The app requested an unsupported grant type.")
        if field("client_id") != args.client_id:
            return self.refuse(401, "invalid_client",
                               "AADSTS700016: Application not found in the directory.")
        if field("client_secret") != args.client_secret:
            return self.refuse(401, "invalid_client",
                               "AADSTS7000215: Invalid client secret provided.")
        scope = field("scope")
        if not scope.endswith("/.default"):
            return self.refuse(400, "invalid_scope",
                               "AADSTS1002012: The provided value for scope is not valid.")
        audience = scope[: -len("/.default")]
        oid = str(uuid.uuid5(uuid.NAMESPACE_URL, "telem-app-" + args.client_id))
        token, _, _ = self.state.make_jwt(audience, args.client_id, oid)
        self.state.issued("client_credentials", "app:" + args.client_id)
        self.send_json(200, {
            "token_type": "Bearer",
            "expires_in": args.lifetime,
            "ext_expires_in": args.lifetime,
            "access_token": token,
        })

    def imds(self, query):
        args = self.state.args
        if (self.headers.get("Metadata") or "").lower() != "true":
            return self.refuse(400, "invalid_request",
                               "Required metadata header not specified")
        field = lambda name: (query.get(name) or [""])[0]
        if field("api-version") not in IMDS_API_VERSIONS:
            return self.refuse(400, "invalid_request",
                               "Missing or unsupported api-version")
        resource = field("resource")
        if not resource:
            return self.refuse(400, "invalid_request",
                               "Required query variable 'resource' is missing")
        if self.fault():
            return
        client_id = field("client_id")
        if client_id and client_id not in args.mi_client_id:
            return self.refuse(400, "invalid_request", "Identity not found")
        if client_id:
            oid = str(uuid.uuid5(uuid.NAMESPACE_URL, "telem-mi-" + client_id))
            identity = "mi:" + client_id
        else:
            oid = self.state.system_oid
            identity = "mi:system"
        token, now, exp = self.state.make_jwt(resource, client_id or oid, oid)
        self.state.issued("managed_identity", identity)
        self.send_json(200, {
            "access_token": token,
            "client_id": client_id or oid,
            "expires_in": str(exp - now),
            "expires_on": str(exp),
            "ext_expires_in": str(exp - now),
            "not_before": str(now),
            "resource": resource,
            "token_type": "Bearer",
        })


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--port-file", required=True,
                   help="written with the port once listening")
    p.add_argument("--label", default="", help="marks the process (for stop)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--mi-client-id", action="append", default=[],
                   help="an accepted user-assigned identity (repeatable)")
    p.add_argument("--lifetime", type=int, default=4,
                   help="token lifetime in seconds (default 4)")
    args = p.parse_args()
    if args.lifetime < 1:
        p.error("--lifetime must be at least 1")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
