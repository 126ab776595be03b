"""Fault injection for the TDS test server.

A fault is a JSON object; it fires `times` times (default 1) and is then
spent.  Kinds:

  {"kind": "error", "on": "login"}                      next login fails
  {"kind": "error", "on": "batch", "match": "COMMIT TRANSACTION",
   "number": 1205}                                      next matching batch fails
        number: 40613 (default: database not currently available) or 1205
        (deadlock victim) or any other number with "message"/"class"/"state".
        A failed batch is not executed; an open transaction is rolled back
        (as SQL Server does for these errors).  "close": true also drops the
        connection after the error is sent.
  {"kind": "drop", "on": "bulk", "after_rows": 5}       drop the connection once
        5 rows of a bulk load have arrived; the load is rolled back
  {"kind": "drop", "on": "batch", "match": "COMMIT", "when": "after"}
        execute (and commit) the matching batch, then drop the connection
        without a reply: "committed remotely, reply lost".  "when": "before"
        drops it without executing anything.
  {"kind": "drop", "on": "login"}                       drop at LOGIN7
  {"kind": "delay", "on": "batch"|"login"|"bulk", "ms": 2000, "match": "..."}
        wait before executing (an ATTENTION cuts the wait short: the batch
        is then not executed)

"match" is a case-insensitive substring of the batch text (batches only);
without it every batch matches.
"""

import itertools
import threading

KINDS = {"error", "drop", "delay"}
EVENTS = {"login", "batch", "bulk"}

ERROR_DEFAULTS = {
    40613: (17, 1, "Database '{db}' on server '{server}' is not currently available. "
                   "Please retry the connection later. If the problem persists, contact "
                   "customer support, and provide them the session tracing ID of "
                   "'00000000-0000-0000-0000-000000000000'."),
    1205: (13, 51, "Transaction (Process ID {spid}) was deadlocked on lock resources with "
                   "another process and has been chosen as the deadlock victim. Rerun the "
                   "transaction."),
    40197: (17, 1, "The service has encountered an error processing your request. "
                   "Please try again. Error code 4815."),
    40501: (20, 1, "The service is currently busy. Retry the request after 10 seconds."),
}


class FaultError(ValueError):
    pass


class Fault:
    _ids = itertools.count(1)

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault is a JSON object")
        unknown = set(spec) - {"kind", "on", "match", "number", "message", "class", "state",
                               "close", "after_rows", "when", "ms", "times"}
        if unknown:
            raise FaultError("unknown fault field(s): %s" % ", ".join(sorted(unknown)))
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise FaultError("kind must be one of %s" % ", ".join(sorted(KINDS)))
        self.on = spec.get("on", "bulk" if "after_rows" in spec else "batch")
        if self.on not in EVENTS:
            raise FaultError("on must be one of %s" % ", ".join(sorted(EVENTS)))
        self.match = spec.get("match")
        if self.match is not None and (not isinstance(self.match, str) or not self.match):
            raise FaultError("match must be a non-empty string")
        self.times = int(spec.get("times", 1))
        if self.times < 1:
            raise FaultError("times must be >= 1")
        self.number = int(spec.get("number", 40613))
        cls, state, msg = ERROR_DEFAULTS.get(self.number, (16, 1, "Injected error %d." % self.number))
        self.cls = int(spec.get("class", cls))
        self.state = int(spec.get("state", state))
        self.message = spec.get("message", msg)
        self.close = bool(spec.get("close", False))
        self.after_rows = spec.get("after_rows")
        self.when = spec.get("when", "after")
        self.ms = int(spec.get("ms", 0))
        if self.kind == "error" and self.on == "bulk":
            raise FaultError("error faults fire on login or batch")
        if self.kind == "drop" and self.on == "bulk":
            if self.after_rows is None or int(self.after_rows) < 0:
                raise FaultError("a bulk drop needs after_rows >= 0")
            self.after_rows = int(self.after_rows)
        if self.kind == "drop" and self.on == "batch" and self.when not in ("before", "after"):
            raise FaultError("when must be before or after")
        if self.kind == "delay" and self.ms <= 0:
            raise FaultError("a delay needs ms > 0")
        if self.match is not None and self.on != "batch":
            raise FaultError("match applies to batches only")
        self.id = next(self._ids)
        self.fired = 0

    def text(self, **kw):
        try:
            return self.message.format(**kw)
        except (KeyError, IndexError, ValueError):
            return self.message

    def as_dict(self):
        d = {"id": self.id, "kind": self.kind, "on": self.on, "times_left": self.times,
             "fired": self.fired}
        if self.match is not None:
            d["match"] = self.match
        if self.kind == "error":
            d.update(number=self.number, **{"class": self.cls}, state=self.state,
                     close=self.close)
        if self.kind == "drop" and self.on == "bulk":
            d["after_rows"] = self.after_rows
        if self.kind == "drop" and self.on == "batch":
            d["when"] = self.when
        if self.kind == "delay":
            d["ms"] = self.ms
        return d


class Faults:
    def __init__(self, stats):
        self.lock = threading.Lock()
        self.armed = []
        self.stats = stats

    def add(self, specs):
        if isinstance(specs, dict):
            specs = [specs]
        if not isinstance(specs, list):
            raise FaultError("send a fault object or a list of them")
        new = [Fault(s) for s in specs]
        with self.lock:
            self.armed.extend(new)
        return [f.id for f in new]

    def clear(self):
        with self.lock:
            self.armed = []

    def list(self):
        with self.lock:
            return [f.as_dict() for f in self.armed]

    def take(self, event, text=None, kinds=None):
        """Return the first armed fault for this event (and text), counting
        it as fired, or None."""
        with self.lock:
            for f in self.armed:
                if f.on != event or (kinds and f.kind not in kinds):
                    continue
                if f.match is not None and (text is None or f.match.lower() not in text.lower()):
                    continue
                f.times -= 1
                f.fired += 1
                if f.times <= 0:
                    self.armed.remove(f)
                self.stats.fault_fired(f)
                return f
        return None

    def peek_bulk_drop(self):
        """The armed bulk drop fault, if any (taken only when it fires)."""
        with self.lock:
            for f in self.armed:
                if f.on == "bulk" and f.kind == "drop":
                    return f
        return None

    def fire(self, fault):
        with self.lock:
            if fault in self.armed:
                fault.times -= 1
                fault.fired += 1
                if fault.times <= 0:
                    self.armed.remove(fault)
        self.stats.fault_fired(fault)
