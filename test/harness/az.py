#!/usr/bin/env python3
"""az.py -- tiny Azure Blob client for seeding and checking test data.

Shared Key signing is written here from the Azure Storage REST reference,
independently of src/store/azure_sign.c, so it is a second opinion on the
C code.  Python 3 standard library only.  Reads TELEM_AZURE_BLOB_ENDPOINT
(https://127.0.0.1:P/devstoreaccount1), TELEM_AZURE_ACCOUNT, TELEM_AZURE_KEY
and TELEM_AZURE_CA_FILE from the environment (source STATE_DIR/env.sh).

  az.py mb CONTAINER                 create a container (exists: ok)
  az.py put CONTAINER KEY FILE       upload FILE ('-' = stdin) as a block blob
  az.py putdir CONTAINER PREFIX DIR  upload every file under DIR as PREFIX +
                                     path relative to DIR (keep-alive, parallel)
  az.py get CONTAINER KEY [OUTFILE]  blob body to OUTFILE or stdout
  az.py ls CONTAINER [PREFIX]        "key size md5hex" per blob (paged; md5 as
                                     the service stores it, "-" if none)
  az.py md5 CONTAINER [PREFIX]       "key md5hex", computed by downloading
  az.py rm CONTAINER KEY             delete a blob (missing: ok)
  az.py sas CONTAINER [--perm rl] [--hours 2]
                                     print a service SAS for CONTAINER
  az.py sas --account [--perm rwdlac] [--hours 2]
                                     print an account SAS (blob service,
                                     service+container+object resources)
Authentication: Shared Key by default; --sas TOKEN signs nothing and appends
the SAS (e.g. "$TELEM_AZURE_SAS"); --bearer FILE sends the token in FILE.
Exits non-zero, with the error body on stderr, on any unexpected answer.
"""

import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import os
import ssl
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

API_VERSION = "2021-08-06"
SAS_VERSION = "2022-11-02"
PAGE_SIZE = 5000
WORKERS = 8


class AzError(Exception):
    pass


def http_date():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")


def iso_utc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class Client:
    """One keep-alive connection; not shared between threads."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.conn = None

    def connect(self):
        c = self.cfg
        if c.scheme == "https":
            ctx = ssl.create_default_context(cafile=c.ca_file)
            return http.client.HTTPSConnection(c.host, c.port, context=ctx, timeout=60)
        return http.client.HTTPConnection(c.host, c.port, timeout=60)

    def sign(self, method, path, query, headers):
        """Shared Key: HMAC-SHA256 over the string to sign, base64."""
        c = self.cfg
        std = [headers.get(h, "") for h in (
            "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
            "Content-Type", "Date", "If-Modified-Since", "If-Match",
            "If-None-Match", "If-Unmodified-Since", "Range")]
        if std[2] == "0":
            std[2] = ""  # since 2015-02-21 a zero length is signed as empty
        ms = sorted((k.lower(), v.strip()) for k, v in headers.items()
                    if k.lower().startswith("x-ms-"))
        canon_headers = "".join("%s:%s\n" % kv for kv in ms)
        resource = "/" + c.account + path
        params = {}
        for k, v in query:
            params.setdefault(k.lower(), []).append(v)
        for k in sorted(params):
            resource += "\n%s:%s" % (k, ",".join(sorted(params[k])))
        to_sign = "\n".join([method] + std) + "\n" + canon_headers + resource
        mac = hmac.new(c.key, to_sign.encode("utf-8"), hashlib.sha256).digest()
        return "SharedKey %s:%s" % (c.account, base64.b64encode(mac).decode())

    def request(self, method, container, key=None, query=(), body=b"",
                headers=None, ok=(200, 201, 202), ok_codes=()):
        """One request; returns (status, headers, body).  Retries once on a
        dropped keep-alive connection."""
        c = self.cfg
        path = c.base_path + "/" + container
        if key is not None:
            path += "/" + urllib.parse.quote(key, safe="/~")
        query = list(query)
        hdrs = dict(headers or {})
        hdrs["x-ms-date"] = http_date()
        hdrs["x-ms-version"] = API_VERSION
        if method in ("PUT", "POST") or body:
            hdrs["Content-Length"] = str(len(body))
        qs = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        if c.auth == "sharedkey":
            hdrs["Authorization"] = self.sign(method, path, query, hdrs)
        elif c.auth == "bearer":
            hdrs["Authorization"] = "Bearer " + c.bearer
        else:
            qs = qs + "&" + c.sas if qs else c.sas
        url = path + ("?" + qs if qs else "")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self.connect()
            try:
                self.conn.request(method, url, body=body or None, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if resp.status not in ok:
            code = resp.getheader("x-ms-error-code") or ""
            if code in ok_codes:
                return resp.status, resp, data
            raise AzError("%s %s: HTTP %d %s\n%s" % (
                method, url.split("?")[0], resp.status, code,
                data.decode("utf-8", "replace")[:1000]))
        return resp.status, resp, data


class Config:
    def __init__(self, args):
        endpoint = os.environ.get("TELEM_AZURE_BLOB_ENDPOINT")
        if not endpoint:
            sys.exit("az.py: TELEM_AZURE_BLOB_ENDPOINT is not set: source STATE_DIR/env.sh first")
        u = urllib.parse.urlsplit(endpoint)
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port
        self.base_path = u.path.rstrip("/")
        self.account = os.environ.get("TELEM_AZURE_ACCOUNT") or \
            self.base_path.strip("/").split("/")[-1]
        self.key = base64.b64decode(os.environ.get("TELEM_AZURE_KEY", ""))
        self.ca_file = os.environ.get("TELEM_AZURE_CA_FILE") or None
        self.auth = "sharedkey"
        if args.sas is not None:
            self.auth, self.sas = "sas", args.sas.lstrip("?")
        elif args.bearer is not None:
            with open(args.bearer) as f:
                self.auth, self.bearer = "bearer", f.read().strip()


_local = threading.local()


def thread_client(cfg):
    if getattr(_local, "client", None) is None:
        _local.client = Client(cfg)
    return _local.client


def cmd_mb(cfg, a):
    Client(cfg).request("PUT", a.container, query=[("restype", "container")],
                        ok=(201,), ok_codes=("ContainerAlreadyExists",))


def put_blob(client, container, key, data):
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    client.request("PUT", container, key, body=data, ok=(201,), headers={
        "x-ms-blob-type": "BlockBlob",
        "Content-Type": "application/octet-stream",
        "Content-MD5": md5,
    })


def cmd_put(cfg, a):
    if a.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(a.file, "rb") as f:
            data = f.read()
    put_blob(Client(cfg), a.container, a.key, data)


def cmd_putdir(cfg, a):
    jobs = []
    for root, _, files in os.walk(a.dir):
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, a.dir)
            if any(rel.startswith(x) for x in a.exclude or []):
                continue
            jobs.append((a.prefix + rel, path))
    if not jobs:
        print("putdir: no files under %s" % a.dir, file=sys.stderr)
        return

    def upload(job):
        key, path = job
        with open(path, "rb") as f:
            put_blob(thread_client(cfg), a.container, key, f.read())

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for _ in pool.map(upload, jobs):
            pass
    print("putdir: uploaded %d blobs to %s/%s" % (len(jobs), a.container, a.prefix),
          file=sys.stderr)


def list_blobs(client, container, prefix):
    """Yield (name, size, md5hex or "-") in key order, page by page."""
    marker = None
    while True:
        query = [("restype", "container"), ("comp", "list"),
                 ("maxresults", str(PAGE_SIZE))]
        if prefix:
            query.append(("prefix", prefix))
        if marker:
            query.append(("marker", marker))
        _, _, data = client.request("GET", container, query=query)
        root = ET.fromstring(data)
        for b in root.iter("Blob"):
            props = b.find("Properties")
            md5 = props.findtext("Content-MD5") or ""
            yield (b.findtext("Name"), int(props.findtext("Content-Length") or 0),
                   base64.b64decode(md5).hex() if md5 else "-")
        marker = root.findtext("NextMarker")
        if not marker:
            return


def cmd_ls(cfg, a):
    out = sys.stdout
    for name, size, md5 in list_blobs(Client(cfg), a.container, a.prefix):
        out.write("%s %d %s\n" % (name, size, md5))


def cmd_get(cfg, a):
    _, _, data = Client(cfg).request("GET", a.container, a.key)
    if a.outfile:
        with open(a.outfile, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)


def cmd_md5(cfg, a):
    names = [n for n, _, _ in list_blobs(Client(cfg), a.container, a.prefix)]

    def digest(name):
        _, _, data = thread_client(cfg).request("GET", a.container, name)
        return name, hashlib.md5(data).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for name, md5 in pool.map(digest, names):
            sys.stdout.write("%s %s\n" % (name, md5))


def cmd_rm(cfg, a):
    Client(cfg).request("DELETE", a.container, a.key, ok=(202,),
                        ok_codes=("BlobNotFound",))


def cmd_sas(cfg, a):
    now = datetime.datetime.now(datetime.timezone.utc)
    start = iso_utc(now - datetime.timedelta(minutes=5))  # clock skew
    expiry = iso_utc(now + datetime.timedelta(hours=a.hours))
    if a.account:
        perm = a.perm or "rwdlac"
        fields = {"sv": SAS_VERSION, "ss": "b", "srt": "sco", "sp": perm,
                  "st": start, "se": expiry, "spr": "https,http"}
        to_sign = "\n".join([cfg.account, perm, "b", "sco", start, expiry, "",
                             "https,http", SAS_VERSION, "", ""])
    else:
        if not a.container:
            sys.exit("az.py sas: give a CONTAINER or --account")
        perm = a.perm or "rl"
        fields = {"sv": SAS_VERSION, "sr": "c", "sp": perm, "st": start,
                  "se": expiry, "spr": "https,http"}
        resource = "/blob/%s/%s" % (cfg.account, a.container)
        # sp st se resource si sip spr sv sr snapshot ses rscc rscd rsce rscl rsct
        to_sign = "\n".join([perm, start, expiry, resource, "", "", "https,http",
                             SAS_VERSION, "c", "", "", "", "", "", "", ""])
    mac = hmac.new(cfg.key, to_sign.encode("utf-8"), hashlib.sha256).digest()
    fields["sig"] = base64.b64encode(mac).decode()
    print(urllib.parse.urlencode(fields, quote_via=urllib.parse.quote))


def main():
    p = argparse.ArgumentParser(prog="az.py", description=__doc__.split("\n")[0])
    auth = p.add_mutually_exclusive_group()
    auth.add_argument("--sas", metavar="TOKEN", help="authenticate with this SAS")
    auth.add_argument("--bearer", metavar="FILE", help="send the token in FILE")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("mb"); s.add_argument("container"); s.set_defaults(fn=cmd_mb)
    s = sub.add_parser("put"); s.add_argument("container"); s.add_argument("key")
    s.add_argument("file"); s.set_defaults(fn=cmd_put)
    s = sub.add_parser("putdir"); s.add_argument("container"); s.add_argument("prefix")
    s.add_argument("dir")
    s.add_argument("--exclude", action="append", metavar="PATH",
                   help="skip files whose path under DIR starts with PATH")
    s.set_defaults(fn=cmd_putdir)
    s = sub.add_parser("get"); s.add_argument("container"); s.add_argument("key")
    s.add_argument("outfile", nargs="?"); s.set_defaults(fn=cmd_get)
    for name, fn in (("ls", cmd_ls), ("md5", cmd_md5)):
        s = sub.add_parser(name); s.add_argument("container")
        s.add_argument("prefix", nargs="?", default=""); s.set_defaults(fn=fn)
    s = sub.add_parser("rm"); s.add_argument("container"); s.add_argument("key")
    s.set_defaults(fn=cmd_rm)
    s = sub.add_parser("sas"); s.add_argument("container", nargs="?")
    s.add_argument("--account", action="store_true", help="an account SAS")
    s.add_argument("--perm", help="permissions (default rl; account: rwdlac)")
    s.add_argument("--hours", type=float, default=2)
    s.set_defaults(fn=cmd_sas)
    a = p.parse_args()
    try:
        a.fn(Config(a), a)
    except AzError as e:
        print("az.py: %s" % e, file=sys.stderr)
        sys.exit(1)
    except (OSError, http.client.HTTPException) as e:
        print("az.py: %s: %s" % (os.environ.get("TELEM_AZURE_BLOB_ENDPOINT"), e),
              file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(1)


if __name__ == "__main__":
    main()
