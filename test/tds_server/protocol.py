"""TDS 7.4 wire format: packets, tokens and data types ([MS-TDS]).

Only what the TDS test server needs: the server side of PRELOGIN and
LOGIN7, the response tokens (LOGINACK, ENVCHANGE, INFO/ERROR, COLMETADATA,
ROW, DONE, FEATUREEXTACK), and the client side of a BULK_LOAD stream
(COLMETADATA + ROW tokens).  All multi-byte integers are little-endian
except the packet header and PRELOGIN option offsets, which are big-endian.
"""

import datetime
import decimal
import struct
import uuid

# --- packet types (2.2.3.1.1) -------------------------------------------------
PKT_SQL_BATCH = 1
PKT_RPC = 3
PKT_REPLY = 4
PKT_ATTENTION = 6
PKT_BULK_LOAD = 7
PKT_TRANS_MGR = 14
PKT_LOGIN7 = 16
PKT_SSPI = 17
PKT_PRELOGIN = 18

ST_EOM = 0x01
ST_RESETCONNECTION = 0x08
ST_RESETCONNECTION_SKIPTRAN = 0x10

# --- tokens (2.2.7) -----------------------------------------------------------
TOK_COLMETADATA = 0x81
TOK_ERROR = 0xAA
TOK_INFO = 0xAB
TOK_LOGINACK = 0xAD
TOK_FEATUREEXTACK = 0xAE
TOK_ROW = 0xD1
TOK_NBCROW = 0xD2
TOK_ENVCHANGE = 0xE3
TOK_DONE = 0xFD
TOK_DONEPROC = 0xFE
TOK_DONEINPROC = 0xFF

DONE_FINAL = 0x00
DONE_MORE = 0x01
DONE_ERROR = 0x02
DONE_INXACT = 0x04
DONE_COUNT = 0x10
DONE_ATTN = 0x20
DONE_SRVERROR = 0x100

# CurCmd values in DONE tokens (the server's statement tokens).
CMD_SELECT = 0xC1
CMD_INSERT = 0xC3
CMD_DELETE = 0xC4
CMD_UPDATE = 0xC5
CMD_OTHER = 0x00

ENV_DATABASE = 1
ENV_LANGUAGE = 2
ENV_PACKETSIZE = 4
ENV_COLLATION = 7
ENV_BEGIN_TRAN = 8
ENV_COMMIT_TRAN = 9
ENV_ROLLBACK_TRAN = 10

# --- data types (2.2.5.4) -----------------------------------------------------
NULLTYPE = 0x1F
INT1 = 0x30
BIT = 0x32
INT2 = 0x34
INT4 = 0x38
DATETIM4 = 0x3A
FLT4 = 0x3B
MONEY = 0x3C
DATETIME = 0x3D
FLT8 = 0x3E
MONEY4 = 0x7A
INT8 = 0x7F
GUIDTYPE = 0x24
INTN = 0x26
DATEN = 0x28
TIMEN = 0x29
DATETIME2N = 0x2A
DATETIMEOFFSETN = 0x2B
BITN = 0x68
DECIMALN = 0x6A
NUMERICN = 0x6C
FLTN = 0x6D
MONEYN = 0x6E
DATETIMN = 0x6F
BIGVARBIN = 0xA5
BIGVARCHR = 0xA7
BIGBINARY = 0xAD
BIGCHAR = 0xAF
NVARCHAR = 0xE7
NCHAR = 0xEF
TEXT = 0x23
IMAGE = 0x22
NTEXT = 0x63

FIXED_LEN = {INT1: 1, BIT: 1, INT2: 2, INT4: 4, DATETIM4: 4, FLT4: 4, MONEY: 8,
             DATETIME: 8, FLT8: 8, MONEY4: 4, INT8: 8}

# Collation Latin1_General_CI_AS: LCID 0x0409, IgnoreCase|IgnoreKana|IgnoreWidth,
# sort id 0 (a Windows collation).  varchar data under it is code page 1252.
COLLATION_LATIN1_CI_AS = bytes([0x09, 0x04, 0xD0, 0x00, 0x00])
COLLATION_NAME = "Latin1_General_CI_AS"

PLP_NULL = 0xFFFFFFFFFFFFFFFF
PLP_UNKNOWN = 0xFFFFFFFFFFFFFFFE

TDS74 = 0x74000004

DATE_BASE = datetime.date(1, 1, 1)
DATETIME_BASE = datetime.date(1900, 1, 1)


class ProtocolError(Exception):
    """The peer sent something this server cannot parse."""


class Disconnected(Exception):
    """The peer closed the connection."""


# --- primitive encoders -------------------------------------------------------
def u8(v):
    return struct.pack("<B", v)


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def i32(v):
    return struct.pack("<i", v)


def u64(v):
    return struct.pack("<Q", v)


def ucs2(s):
    return s.encode("utf-16-le")


def b_varchar(s):
    """B_VARCHAR: 1-byte length in UTF-16 code units, then UTF-16LE."""
    data = ucs2(s)
    return u8(len(data) // 2) + data


def us_varchar(s):
    data = ucs2(s)
    return u16(len(data) // 2) + data


def b_varbyte(b):
    return u8(len(b)) + b


# --- packets -------------------------------------------------------------------
class PacketSocket:
    """Reads and writes TDS packets on a connected socket."""

    def __init__(self, sock, spid):
        self.sock = sock
        self.spid = spid
        self.packet_size = 4096
        self.packet_id = 1

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Disconnected()
            buf += chunk
        return bytes(buf)

    def read_packet(self):
        """Return (type, status, payload) of the next packet."""
        hdr = self.recv_exact(8)
        ptype, status, length = hdr[0], hdr[1], struct.unpack(">H", hdr[2:4])[0]
        if length < 8:
            raise ProtocolError("packet length %d < 8" % length)
        return ptype, status, self.recv_exact(length - 8)

    def send_packet(self, ptype, payload, eom):
        hdr = struct.pack(">BBHHBB", ptype, ST_EOM if eom else 0, len(payload) + 8,
                          self.spid, self.packet_id, 0)
        self.packet_id = (self.packet_id + 1) % 256
        self.sock.sendall(hdr + payload)


class MessageReader:
    """A client message spread over packets, read as one byte stream.

    Packets are pulled from the socket only when needed, so a bulk load is
    parsed (and can be cut off) while the client is still sending it.
    """

    def __init__(self, psock, ptype, status, first_payload):
        self.psock = psock
        self.type = ptype
        self.status = status
        self.buf = first_payload
        self.pos = 0
        self.eom = bool(status & ST_EOM)

    def _more(self):
        if self.eom:
            raise ProtocolError("message ended early")
        ptype, status, payload = self.psock.read_packet()
        if ptype == PKT_ATTENTION:
            raise ProtocolError("attention in the middle of a request")
        self.buf = self.buf[self.pos:] + payload
        self.pos = 0
        self.eom = bool(status & ST_EOM)

    def read(self, n):
        while len(self.buf) - self.pos < n:
            self._more()
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def at_end(self):
        while self.pos >= len(self.buf):
            if self.eom:
                return True
            self._more()
        return False

    def rest(self):
        while not self.eom:
            self._more()
        out = self.buf[self.pos:]
        self.pos = len(self.buf)
        return out

    def u8(self):
        return self.read(1)[0]

    def u16(self):
        return struct.unpack("<H", self.read(2))[0]

    def u32(self):
        return struct.unpack("<I", self.read(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.read(8))[0]

    def b_varchar(self):
        n = self.u8()
        return self.read(2 * n).decode("utf-16-le")


class ResponseWriter:
    """Collects response tokens and sends them as packets of the negotiated
    size; full packets go out as soon as they fill up."""

    def __init__(self, psock):
        self.psock = psock
        self.buf = bytearray()
        self.sent_any = False

    def write(self, data):
        self.buf += data
        room = self.psock.packet_size - 8
        while len(self.buf) > room:
            self.psock.send_packet(PKT_REPLY, bytes(self.buf[:room]), eom=False)
            del self.buf[:room]
            self.sent_any = True

    def finish(self):
        self.psock.send_packet(PKT_REPLY, bytes(self.buf), eom=True)
        self.buf = bytearray()
        self.sent_any = False

    def discard(self):
        self.buf = bytearray()


# --- PRELOGIN (2.2.6.5) -------------------------------------------------------
ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0, 1, 2, 3


def parse_prelogin(payload):
    opts = {}
    i = 0
    while i < len(payload) and payload[i] != 0xFF:
        if i + 5 > len(payload):
            raise ProtocolError("truncated PRELOGIN option list")
        token = payload[i]
        off, length = struct.unpack(">HH", payload[i + 1:i + 5])
        opts[token] = payload[off:off + length]
        i += 5
    return opts


def build_prelogin_reply(version=(12, 0, 2000, 8)):
    """Answer: our version, encryption NOT_SUP, no instance, no MARS."""
    options = [
        (0, struct.pack(">BBH", version[0], version[1], version[2]) + struct.pack(">H", version[3])),
        (1, bytes([ENCRYPT_NOT_SUP])),
        (2, b"\x00"),
        (3, b""),
        (4, b"\x00"),
    ]
    header_len = 5 * len(options) + 1
    head, body = bytearray(), bytearray()
    for token, data in options:
        head += struct.pack(">BHH", token, header_len + len(body), len(data))
        body += data
    return bytes(head) + b"\xff" + bytes(body)


# --- LOGIN7 (2.2.6.4) ---------------------------------------------------------
def _unscramble(data):
    out = bytearray()
    for b in data:
        b ^= 0xA5
        out.append(((b << 4) & 0xF0) | (b >> 4))
    return bytes(out)


def parse_login7(payload):
    if len(payload) < 94:
        raise ProtocolError("LOGIN7 too short")
    (length, tds_version, packet_size, _progver, _pid, _connid, flags1, flags2,
     type_flags, flags3, _tz, _lcid) = struct.unpack("<IIIIIIBBBBiI", payload[:36])

    def field(pos, raw=False):
        off, n = struct.unpack("<HH", payload[pos:pos + 4])
        data = payload[off:off + 2 * n]
        return data if raw else data.decode("utf-16-le", "replace")

    login = {
        "tds_version": tds_version,
        "packet_size": packet_size,
        "option_flags3": flags3,
        "hostname": field(36),
        "username": field(40),
        "password": _unscramble(field(44, raw=True)).decode("utf-16-le", "replace"),
        "appname": field(48),
        "servername": field(52),
        "library": field(60),
        "language": field(64),
        "database": field(68),
        "feature_ext": None,
    }
    if flags3 & 0x10:  # fExtension: ibExtension points at a DWORD offset
        off = struct.unpack("<H", payload[56:58])[0]
        if off + 4 <= len(payload):
            feat_off = struct.unpack("<I", payload[off:off + 4])[0]
            feats = []
            i = feat_off
            while i < len(payload) and payload[i] != 0xFF:
                fid = payload[i]
                n = struct.unpack("<I", payload[i + 1:i + 5])[0]
                feats.append((fid, payload[i + 5:i + 5 + n]))
                i += 5 + n
            login["feature_ext"] = feats
    return login


# --- response tokens ----------------------------------------------------------
def tok_loginack(prog_name="Microsoft SQL Server", version=(12, 0, 20, 0)):
    body = u8(1) + struct.pack(">I", TDS74) + b_varchar(prog_name) + bytes(version)
    return u8(TOK_LOGINACK) + u16(len(body)) + body


def tok_envchange_str(kind, new, old):
    body = u8(kind) + b_varchar(new) + b_varchar(old)
    return u8(TOK_ENVCHANGE) + u16(len(body)) + body


def tok_envchange_bytes(kind, new, old):
    body = u8(kind) + b_varbyte(new) + b_varbyte(old)
    return u8(TOK_ENVCHANGE) + u16(len(body)) + body


def tok_message(is_error, number, state, cls, text, server, proc="", line=1):
    body = (i32(number) + u8(state) + u8(cls) + us_varchar(text) + b_varchar(server)
            + b_varchar(proc) + i32(line))
    return u8(TOK_ERROR if is_error else TOK_INFO) + u16(len(body)) + body


def tok_done(status, rowcount=0, curcmd=CMD_OTHER, token=TOK_DONE):
    return u8(token) + u16(status) + u16(curcmd) + u64(rowcount)


def tok_featureextack(features):
    out = bytearray(u8(TOK_FEATUREEXTACK))
    for fid, data in features:
        out += u8(fid) + u32(len(data)) + data
    out += b"\xff"
    return bytes(out)


# --- result columns -----------------------------------------------------------
class Column:
    """A result column: TDS type plus the metadata to encode its values.

    kind is one of: int, bit, float, decimal, nvarchar, varchar, varbinary,
    date, datetime2, datetimeoffset, datetime, guid.
    """

    def __init__(self, name, kind, size=None, precision=None, scale=None, nullable=True):
        self.name = name
        self.kind = kind
        self.size = size            # bytes for int/float, chars for strings (None = max)
        self.precision = precision
        self.scale = scale
        self.nullable = nullable
        self.numeric = False        # NUMERICN rather than DECIMALN

    def tsql_type(self):
        k = self.kind
        if k == "int":
            return {1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"}[self.size]
        if k == "float":
            return "real" if self.size == 4 else "float"
        if k == "decimal":
            return "decimal(%d,%d)" % (self.precision, self.scale)
        if k in ("nvarchar", "varchar", "varbinary"):
            return "%s(%s)" % (k, "max" if self.size is None else self.size)
        if k in ("datetime2", "datetimeoffset"):
            return "%s(%d)" % (k, self.scale)
        return {"bit": "bit", "date": "date", "datetime": "datetime",
                "guid": "uniqueidentifier"}[k]

    def metadata(self):
        flags = 0x0001 if self.nullable else 0
        flags |= 0x0008  # updatable: unknown
        k = self.kind
        if k == "int":
            ti = u8(INTN) + u8(self.size)
        elif k == "bit":
            ti = u8(BITN) + u8(1)
        elif k == "float":
            ti = u8(FLTN) + u8(self.size)
        elif k == "decimal":
            ti = u8(NUMERICN if self.numeric else DECIMALN) + u8(decimal_size(self.precision)) + u8(self.precision) + u8(self.scale)
        elif k == "nvarchar":
            ti = u8(NVARCHAR) + u16(0xFFFF if self.size is None else 2 * self.size) + COLLATION_LATIN1_CI_AS
        elif k == "varchar":
            ti = u8(BIGVARCHR) + u16(0xFFFF if self.size is None else self.size) + COLLATION_LATIN1_CI_AS
        elif k == "varbinary":
            ti = u8(BIGVARBIN) + u16(0xFFFF if self.size is None else self.size)
        elif k == "date":
            ti = u8(DATEN)
        elif k == "datetime2":
            ti = u8(DATETIME2N) + u8(self.scale)
        elif k == "datetimeoffset":
            ti = u8(DATETIMEOFFSETN) + u8(self.scale)
        elif k == "datetime":
            ti = u8(DATETIMN) + u8(8)
        elif k == "guid":
            ti = u8(GUIDTYPE) + u8(16)
        else:
            raise ValueError(k)
        return u32(0) + u16(flags) + ti + b_varchar(self.name)

    def encode(self, v):
        k = self.kind
        if k == "int":
            if v is None:
                return b"\x00"
            fmt = {1: "<B", 2: "<h", 4: "<i", 8: "<q"}[self.size]
            return u8(self.size) + struct.pack(fmt, int(v))
        if k == "bit":
            return b"\x00" if v is None else b"\x01" + (b"\x01" if v else b"\x00")
        if k == "float":
            if v is None:
                return b"\x00"
            return u8(self.size) + struct.pack("<f" if self.size == 4 else "<d", float(v))
        if k == "decimal":
            if v is None:
                return b"\x00"
            return encode_decimal(v, self.precision, self.scale)
        if k in ("nvarchar", "varchar", "varbinary"):
            if v is None:
                return u64(PLP_NULL) if self.size is None else u16(0xFFFF)
            if k == "nvarchar":
                data = ucs2(str(v))
            elif k == "varchar":
                data = str(v).encode("cp1252", "replace")
            else:
                data = bytes(v)
            if self.size is None:
                out = bytearray(u64(len(data)))
                for i in range(0, len(data), 0x7FFF0000):
                    chunk = data[i:i + 0x7FFF0000]
                    out += u32(len(chunk)) + chunk
                out += u32(0)
                return bytes(out)
            return u16(len(data)) + data
        if k == "date":
            return b"\x00" if v is None else b"\x03" + encode_date(v)
        if k == "datetime2":
            if v is None:
                return b"\x00"
            t = encode_time(v.hour, v.minute, v.second, v.microsecond, self.scale)
            return u8(len(t) + 3) + t + encode_date(v.date())
        if k == "datetimeoffset":
            if v is None:
                return b"\x00"
            if v.tzinfo is not None:
                v = v.astimezone(datetime.timezone.utc)
            t = encode_time(v.hour, v.minute, v.second, v.microsecond, self.scale)
            return u8(len(t) + 5) + t + encode_date(v.date()) + struct.pack("<h", 0)
        if k == "datetime":
            if v is None:
                return b"\x00"
            days = (v.date() - DATETIME_BASE).days
            secs = v.hour * 3600 + v.minute * 60 + v.second
            ticks = secs * 300 + round(v.microsecond * 300 / 1e6)
            return b"\x08" + struct.pack("<iI", days, ticks)
        if k == "guid":
            if v is None:
                return b"\x00"
            return b"\x10" + uuid.UUID(str(v)).bytes_le
        raise ValueError(k)


def tok_colmetadata(columns):
    out = bytearray(u8(TOK_COLMETADATA) + u16(len(columns)))
    for c in columns:
        out += c.metadata()
    return bytes(out)


def tok_row(columns, values):
    out = bytearray(u8(TOK_ROW))
    for c, v in zip(columns, values):
        out += c.encode(v)
    return bytes(out)


def decimal_size(precision):
    if precision <= 9:
        return 5
    if precision <= 19:
        return 9
    if precision <= 28:
        return 13
    return 17


def encode_decimal(v, precision, scale):
    d = decimal.Decimal(v)
    n = int(d.scaleb(scale).to_integral_value(rounding=decimal.ROUND_HALF_UP))
    size = decimal_size(precision)
    return u8(size) + u8(0 if n < 0 else 1) + abs(n).to_bytes(size - 1, "little")


def encode_date(d):
    return (d - DATE_BASE).days.to_bytes(3, "little")


def time_len(scale):
    return 3 if scale <= 2 else 4 if scale <= 4 else 5


def encode_time(h, m, s, us, scale):
    ticks_100ns = ((h * 60 + m) * 60 + s) * 10_000_000 + us * 10
    ticks = ticks_100ns // (10 ** (7 - scale))
    return ticks.to_bytes(time_len(scale), "little")


# --- bulk load: client COLMETADATA and ROW tokens ------------------------------
class BulkColumn:
    def __init__(self, name, tds_type, size, precision, scale, collation):
        self.name = name
        self.type = tds_type
        self.size = size
        self.precision = precision
        self.scale = scale
        self.collation = collation


def read_type_info(r):
    """Read a TYPE_INFO; return (type, size, precision, scale, collation)."""
    t = r.u8()
    size = prec = scale = None
    coll = None
    if t in FIXED_LEN or t == NULLTYPE:
        size = FIXED_LEN.get(t, 0)
    elif t in (INTN, BITN, FLTN, MONEYN, DATETIMN, GUIDTYPE):
        size = r.u8()
    elif t in (DECIMALN, NUMERICN):
        size, prec, scale = r.u8(), r.u8(), r.u8()
    elif t == DATEN:
        size = 3
    elif t in (TIMEN, DATETIME2N, DATETIMEOFFSETN):
        scale = r.u8()
    elif t in (BIGVARCHR, BIGCHAR, NVARCHAR, NCHAR):
        size = r.u16()
        coll = r.read(5)
    elif t in (BIGVARBIN, BIGBINARY):
        size = r.u16()
    elif t in (TEXT, NTEXT, IMAGE):
        size = r.u32()
        if t != IMAGE:
            coll = r.read(5)
    else:
        raise ProtocolError("unsupported type 0x%02X in bulk metadata" % t)
    return t, size, prec, scale, coll


def read_bulk_colmetadata(r):
    n = r.u16()
    cols = []
    for _ in range(n):
        r.u32()  # user type
        r.u16()  # flags
        t, size, prec, scale, coll = read_type_info(r)
        if t in (TEXT, NTEXT, IMAGE):
            nparts = r.u16()  # table name, US_VARCHAR
            r.read(2 * nparts)
        name = r.b_varchar()
        cols.append(BulkColumn(name, t, size, prec, scale, coll))
    return cols


def codepage_of(coll):
    """Python codec for varchar data under a collation (enough for ours)."""
    if coll is None:
        return "cp1252"
    info = int.from_bytes(coll[:4], "little")
    if info & (1 << 26):  # fUTF8
        return "utf-8"
    lcid = info & 0xFFFFF
    return {0x0409: "cp1252", 0x0809: "cp1252", 0x0407: "cp1252", 0x040C: "cp1252",
            0x0419: "cp1251", 0x0411: "cp932", 0x0804: "cp936"}.get(lcid, "cp1252")


def _read_plp(r):
    total = r.u64()
    if total == PLP_NULL:
        return None
    out = bytearray()
    while True:
        n = r.u32()
        if n == 0:
            break
        out += r.read(n)
    return bytes(out)


def read_bulk_value(r, c):
    """Read one column value of a ROW token; return a Python value:
    None, int, float, bool, str, bytes, Decimal or a string PostgreSQL
    reads as the date/time value (exact to 100 ns)."""
    t = c.type
    if t in FIXED_LEN:
        data = r.read(FIXED_LEN[t])
        return _decode_fixed(t, data)
    if t in (INTN, BITN, FLTN, MONEYN, DATETIMN, GUIDTYPE, DECIMALN, NUMERICN,
             DATEN, TIMEN, DATETIME2N, DATETIMEOFFSETN):
        n = r.u8()
        if n == 0:
            return None
        data = r.read(n)
        if t == INTN:
            return int.from_bytes(data, "little", signed=(n != 1))
        if t == BITN:
            return data[0] != 0
        if t == FLTN:
            return struct.unpack("<f" if n == 4 else "<d", data)[0]
        if t == MONEYN:
            return _decode_fixed(MONEY4 if n == 4 else MONEY, data)
        if t == DATETIMN:
            return _decode_fixed(DATETIM4 if n == 4 else DATETIME, data)
        if t == GUIDTYPE:
            return str(uuid.UUID(bytes_le=data))
        if t in (DECIMALN, NUMERICN):
            mag = int.from_bytes(data[1:], "little")
            if data[0] == 0:
                mag = -mag
            return decimal.Decimal(mag).scaleb(-c.scale)
        if t == DATEN:
            return _date_str(int.from_bytes(data, "little"))
        tl = time_len(c.scale)
        tstr = _time_str(int.from_bytes(data[:tl], "little"), c.scale)
        if t == TIMEN:
            return tstr
        dstr = _date_str(int.from_bytes(data[tl:tl + 3], "little"))
        if t == DATETIME2N:
            return dstr + " " + tstr
        # DATETIMEOFFSETN: date and time are UTC; the offset is for display.
        return dstr + " " + tstr + "+00"
    if t in (BIGVARCHR, BIGCHAR, NVARCHAR, NCHAR, BIGVARBIN, BIGBINARY):
        if c.size == 0xFFFF:
            data = _read_plp(r)
        else:
            n = r.u16()
            data = None if n == 0xFFFF else r.read(n)
        if data is None:
            return None
        if t in (NVARCHAR, NCHAR):
            return decode_utf16(data, c.name)
        if t in (BIGVARCHR, BIGCHAR):
            return data.decode(codepage_of(c.collation))
        return data
    if t in (TEXT, NTEXT, IMAGE):
        ptrlen = r.u8()
        if ptrlen == 0:
            return None
        r.read(ptrlen + 8)  # text pointer, timestamp
        n = r.u32()
        data = r.read(n)
        if t == NTEXT:
            return decode_utf16(data, c.name)
        if t == TEXT:
            return data.decode(codepage_of(c.collation))
        return data
    raise ProtocolError("unsupported type 0x%02X in bulk row" % t)


def decode_utf16(data, colname):
    """nvarchar data must be UTF-16LE; say so plainly when it is not (the
    FreeTDS bcp pitfall: a UTF-8 string bound as SYBCHAR arrives as is)."""
    try:
        return data.decode("utf-16-le")
    except UnicodeDecodeError:
        hint = ""
        try:
            data.decode("utf-8")
            hint = " (it is valid UTF-8: a client string sent without conversion to UTF-16?)"
        except UnicodeDecodeError:
            pass
        raise ValueError("column '%s': %d bytes of nvarchar data are not UTF-16LE%s"
                         % (colname, len(data), hint))


def _decode_fixed(t, data):
    if t == INT1:
        return data[0]
    if t == BIT:
        return data[0] != 0
    if t in (INT2, INT4, INT8):
        return int.from_bytes(data, "little", signed=True)
    if t == FLT4:
        return struct.unpack("<f", data)[0]
    if t == FLT8:
        return struct.unpack("<d", data)[0]
    if t == MONEY:
        hi, lo = struct.unpack("<iI", data)
        return decimal.Decimal((hi << 32) | lo).scaleb(-4)
    if t == MONEY4:
        return decimal.Decimal(struct.unpack("<i", data)[0]).scaleb(-4)
    if t == DATETIME:
        days, ticks = struct.unpack("<iI", data)
        d = DATETIME_BASE + datetime.timedelta(days=days)
        ms = (ticks * 1000 + 150) // 300  # 1/300 s ticks, rounded to ms
        return "%s %02d:%02d:%02d.%03d" % (d.isoformat(), ms // 3600000, ms // 60000 % 60,
                                            ms // 1000 % 60, ms % 1000)
    if t == DATETIM4:
        days, mins = struct.unpack("<HH", data)
        d = DATETIME_BASE + datetime.timedelta(days=days)
        return "%s %02d:%02d:00" % (d.isoformat(), mins // 60, mins % 60)
    raise ProtocolError("fixed type 0x%02X" % t)


def _date_str(days):
    return (DATE_BASE + datetime.timedelta(days=days)).isoformat()


def _time_str(ticks, scale):
    t100 = ticks * 10 ** (7 - scale)
    secs, frac = divmod(t100, 10_000_000)
    return "%02d:%02d:%02d.%07d" % (secs // 3600, secs // 60 % 60, secs % 60, frac)
