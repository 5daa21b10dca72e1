#!/usr/bin/python3
"""WebSocket client and REST load generator of bench/ws.sh (standard library only: asyncio).

The client side is a minimal RFC 6455 client on asyncio.Protocol (handshake with the Sec-WebSocket-Accept
check, unmasked server frames, masked pong/text/close frames, fragmented messages), so that one Python process
holds 10 000 connections with a few KiB each and the CPU left to the server stays as large as possible.

  tokens                 stdin: user ids, one a line; env JWT_SECRET; stdout: an HS256 token per id (sub, iat,
                         exp = now + 2 h), as the server's own JwtSigner issues them.
  idle URL TOKENS N PID  opens N connections spread over the users of TOKENS (file, one token a line) in turn,
                         half authenticated with ?access_token=, half with Sec-WebSocket-Protocol: bearer, <token>;
                         samples VmRSS of PID before and with all open, then has every connection do one
                         {"type":"ping"} → pong exchange and samples again, then reads /metrics. Prints one
                         `IDLE key=value…` line (and progress on stderr).
  listen URL TOKENS OUT  one connection per token; prints READY when all are open, records every received frame
                         until SIGTERM, then writes OUT (csv: event_id,user,sequence,type,time_epoch,recv_epoch)
                         and prints one `LISTEN key=value…` line (messages, gaps, duplicates, closes).
  load URL TOKENS RATE SECONDS CONNS
                         REST changes at a steady RATE a second for SECONDS over CONNS keep-alive connections,
                         user by user in turn, each user cycling create → update → complete → reopen → delete.
                         Prints one `LOAD key=value…` line (changes, errors by status, achieved rate, HTTP p50/p99).
"""
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import random
import resource
import signal
import struct
import sys
import time
import urllib.parse
import urllib.request

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tokens():
    secret = os.environ["JWT_SECRET"].encode()
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    for line in sys.stdin:
        sub = line.strip()
        if not sub:
            continue
        payload = b64url(json.dumps({"sub": sub, "iat": now, "exp": now + 7200}, separators=(",", ":")).encode())
        signing_input = f"{header}.{payload}".encode()
        sig = b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
        print(f"{header}.{payload}.{sig}")


def parse_rfc3339(s: str) -> float:
    """'2026-11-23T12:31:07.12Z' → seconds since the epoch (UTC), microsecond precision."""
    import calendar

    main, _, frac = s.rstrip("Z").partition(".")
    t = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) + (int((frac + "000000")[:6]) / 1e6 if frac else 0.0)


def read_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def vmrss_kib(pid) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def mask_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN set, masked)."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    if n:
        mask = (key * (n // 4 + 1))[:n]
        return head + key + (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")
    return head + key


class WsConn(asyncio.Protocol):
    """One client WebSocket. on_text(conn, text, recv_time) gets each complete text message."""

    __slots__ = ("request", "accept", "transport", "buf", "upgraded", "ready", "status", "on_text", "frag",
                 "closed_code", "lost", "user", "closing")

    def __init__(self, request: bytes, accept: bytes, ready: asyncio.Future, on_text, user):
        self.request = request
        self.accept = accept
        self.ready = ready
        self.on_text = on_text
        self.user = user
        self.transport = None
        self.buf = b""
        self.upgraded = False
        self.status = None
        self.frag = None
        self.closed_code = None
        self.lost = False
        self.closing = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)
        self.request = None

    def data_received(self, data):
        now = time.time()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self._fail("handshake too long")
                return
            head = self.buf[:end].decode("latin-1")
            self.buf = self.buf[end + 4:]
            lines = head.split("\r\n")
            parts = lines[0].split(" ", 2)
            self.status = parts[1] if len(parts) > 1 else "?"
            if self.status != "101":
                self._fail(self.status)
                return
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            if headers.get("sec-websocket-accept", "").encode() != self.accept:
                self._fail("bad Sec-WebSocket-Accept")
                return
            self.upgraded = True
            self.accept = None
            if not self.ready.done():
                self.ready.set_result(True)
        self._frames(now)

    def _frames(self, now):
        buf = self.buf
        pos = 0
        while True:
            if len(buf) - pos < 2:
                break
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            hdr = 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n = struct.unpack_from("!H", buf, pos + 2)[0]
                hdr = 4
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                hdr = 10
            if b1 & 0x80:  # servers never mask
                self._fail("masked server frame")
                return
            if len(buf) - pos < hdr + n:
                break
            payload = buf[pos + hdr:pos + hdr + n]
            pos += hdr + n
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode == 0x9:  # ping → pong
                self.transport.write(mask_frame(0xA, payload))
            elif opcode == 0xA:
                pass
            elif opcode == 0x8:
                self.closed_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                if not self.closing:
                    self.transport.write(mask_frame(0x8, payload[:2]))
                self.transport.close()
                return
            elif opcode in (0x1, 0x2, 0x0):
                if opcode != 0x0:
                    self.frag = payload
                else:
                    self.frag = (self.frag or b"") + payload
                if fin:
                    text, self.frag = self.frag, None
                    self.on_text(self, text, now)
        self.buf = buf[pos:]

    def _fail(self, why):
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport:
            self.transport.close()

    def connection_lost(self, exc):
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during the handshake ({self.status or 'no answer'})"))

    def send_text(self, text: str):
        self.transport.write(mask_frame(0x1, text.encode()))


async def open_ws(loop, host, port, path_query, token, use_protocol, on_text, user, timeout=30):
    key = base64.b64encode(os.urandom(16))
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    if use_protocol:
        target, extra = path_query, f"Sec-WebSocket-Protocol: bearer, {token}\r\n"
    else:
        sep = "&" if "?" in path_query else "?"
        target, extra = f"{path_query}{sep}access_token={token}", ""
    request = (f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode()
    ready = loop.create_future()
    transport, conn = await asyncio.wait_for(
        loop.create_connection(lambda: WsConn(request, accept, ready, on_text, user), host, port), timeout)
    try:
        await asyncio.wait_for(ready, timeout)
    except BaseException:
        transport.close()
        raise
    return conn


def split_url(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


async def open_many(loop, url, tokens_for, count, on_text, parallel=200):
    """Opens `count` connections (connection i as user tokens_for(i)); returns (conns, failures by reason)."""
    host, port = split_url(url)
    sem = asyncio.Semaphore(parallel)
    conns = [None] * count
    failures = collections.Counter()
    done = 0
    t0 = time.monotonic()

    async def one(i):
        nonlocal done
        user, token = tokens_for(i)
        async with sem:
            for attempt in range(3):
                try:
                    conns[i] = await open_ws(loop, host, port, "/api/v1/ws", token, i % 2 == 1, on_text, user)
                    break
                except (ConnectionError, OSError, asyncio.TimeoutError) as e:
                    reason = str(e) or type(e).__name__
                    if attempt == 2 or reason.startswith(("4", "5")):  # an HTTP refusal is not retried
                        failures[reason[:60]] += 1
                        break
                    await asyncio.sleep(0.2)
        done += 1
        if done % 2000 == 0:
            log(f"  {done}/{count} connections ({time.monotonic() - t0:.1f} s)")

    await asyncio.gather(*(one(i) for i in range(count)))
    return [c for c in conns if c is not None], failures, time.monotonic() - t0


def fetch(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def metric_value(text, name):
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == name:
            return parts[1]
    return "-"


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < need:
        sys.exit(f"ws_client: open files limit {soft} < {need}")


async def idle(url, tokens_path, count, pid):
    loop = asyncio.get_running_loop()
    toks = read_lines(tokens_path)
    raise_nofile(count + 100)
    pongs = 0
    other = collections.Counter()

    def on_text(conn, text, now):
        nonlocal pongs
        try:
            t = json.loads(text).get("type")
        except ValueError:
            t = "invalid json"
        if t == "pong":
            pongs += 1
        else:
            other[t] += 1

    def sample():
        return vmrss_kib(pid)

    rss0 = sample()
    own0 = vmrss_kib(os.getpid())
    conns, failures, secs = await open_many(loop, url, lambda i: (i % len(toks), toks[i % len(toks)]), count, on_text)
    opened = len(conns)
    await asyncio.sleep(3)  # let the server settle (handshake buffers freed, sessions in their read loop)
    rss1 = sample()
    metrics1 = fetch(url + "/metrics")
    own1 = vmrss_kib(os.getpid())
    # One message round trip on every connection: each session has now read and written once.
    for c in conns:
        if not c.lost:
            c.send_text('{"type":"ping"}')
    deadline = time.monotonic() + 20
    while pongs < opened and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    rss2 = sample()
    metrics2 = fetch(url + "/metrics")
    lost = sum(1 for c in conns if c.lost)
    codes = collections.Counter(c.closed_code for c in conns if c.closed_code is not None)
    for c in conns:
        c.closing = True
        c.transport.abort()
    fields = {
        "requested": count, "opened": opened, "open_seconds": f"{secs:.1f}",
        "failures": ";".join(f"{k}:{v}" for k, v in failures.most_common()) or "none",
        "rss_before_kib": rss0, "rss_open_kib": rss1, "rss_after_ping_kib": rss2,
        "ws_connections_open": metric_value(metrics1, "ws_connections"),
        "ws_connections_after_ping": metric_value(metrics2, "ws_connections"),
        "pongs": pongs, "other_messages": ";".join(f"{k}:{v}" for k, v in other.items()) or "none",
        "lost_during_hold": lost, "close_codes": ";".join(f"{k}:{v}" for k, v in codes.items()) or "none",
        "client_rss_kib_per_conn": f"{(own1 - own0) / max(opened, 1):.1f}",
    }
    print("IDLE " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


async def listen(url, tokens_path, out_path):
    loop = asyncio.get_running_loop()
    toks = read_lines(tokens_path)
    raise_nofile(len(toks) + 100)
    records = []
    controls = collections.Counter()

    def on_text(conn, text, now):
        try:
            m = json.loads(text)
        except ValueError:
            controls["invalid json"] += 1
            return
        if "event_id" in m and "sequence" in m:
            records.append((m["event_id"], conn.user, m["sequence"], m.get("type", ""), m.get("time", ""), now))
        else:
            controls[m.get("type", "?")] += 1

    conns, failures, secs = await open_many(loop, url, lambda i: (i, toks[i]), len(toks), on_text)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"READY opened={len(conns)} failures={sum(failures.values())} seconds={secs:.1f}", flush=True)
    await stop.wait()

    last_seq = {}
    gaps = dups = 0
    with open(out_path, "w") as f:
        for event_id, user, seq, typ, t, recv in records:
            prev = last_seq.get(user)
            if prev is not None:
                if seq <= prev:
                    dups += 1
                elif seq != prev + 1:
                    gaps += 1
            last_seq[user] = max(seq, prev or 0)
            te = parse_rfc3339(t) if t else 0.0
            f.write(f"{event_id},{user},{seq},{typ},{te:.6f},{recv:.6f}\n")
    lost = sum(1 for c in conns if c.lost)
    codes = collections.Counter(c.closed_code for c in conns if c.closed_code is not None)
    fields = {
        "opened": len(conns), "failures": ";".join(f"{k}:{v}" for k, v in failures.items()) or "none",
        "messages": len(records), "users_with_messages": len(last_seq), "gaps": gaps, "duplicates": dups,
        "control": ";".join(f"{k}:{v}" for k, v in controls.items()) or "none",
        "lost": lost, "close_codes": ";".join(f"{k}:{v}" for k, v in codes.items()) or "none",
    }
    print("LISTEN " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    for c in conns:
        c.transport.abort()


class Http:
    """One keep-alive HTTP/1.1 connection (asyncio streams)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, token, body=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n"
                f"Accept: application/json\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "connection" and v.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, payload


async def load(url, tokens_path, rate, seconds, nconns):
    host, port = split_url(url)
    toks = read_lines(tokens_path)
    n_users = len(toks)
    state = [None] * n_users  # (task id, next step) per user
    busy = [False] * n_users
    steps = ["create", "update", "complete", "reopen", "delete"]
    statuses = collections.Counter()
    kinds = collections.Counter()
    latencies = []
    free = asyncio.Queue()
    for _ in range(nconns):
        free.put_nowait(Http(host, port))
    inflight = set()
    skipped = 0

    async def change(u, conn):
        tok = toks[u]
        task, step = state[u] or (None, 0)
        kind = steps[step] if task else "create"
        t0 = time.monotonic()
        try:
            if kind == "create":
                st, body = await conn.request("POST", "/api/v1/tasks", tok,
                                              {"title": f"ws bench {u}", "priority": "medium", "tags": ["ws"]})
                if st == 201:
                    task = json.loads(body)["id"]
                    state[u] = (task, 1)
            elif kind == "update":
                st, _ = await conn.request("PATCH", f"/api/v1/tasks/{task}", tok,
                                           {"title": f"ws bench {u} {random.randrange(10**6)}"})
                if st == 200:
                    state[u] = (task, 2)
            elif kind in ("complete", "reopen"):
                st, _ = await conn.request("POST", f"/api/v1/tasks/{task}/{kind}", tok)
                if st == 200:
                    state[u] = (task, 3 if kind == "complete" else 4)
            else:
                st, _ = await conn.request("DELETE", f"/api/v1/tasks/{task}", tok)
                if st == 204:
                    state[u] = None
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError) as e:
            st = type(e).__name__
            conn.writer = None
        latencies.append(time.monotonic() - t0)
        statuses[st] += 1
        kinds[kind] += 1
        busy[u] = False
        free.put_nowait(conn)

    t_start = time.monotonic()
    issued = 0
    user = 0
    while True:
        now = time.monotonic()
        if now - t_start >= seconds:
            break
        due = int((now - t_start) * rate) + 1
        while issued < due:
            if free.empty():
                skipped += due - issued  # every connection busy: the server is behind; do not queue up
                issued = due
                break
            for _ in range(n_users):  # next user without a change in flight
                user = (user + 1) % n_users
                if not busy[user]:
                    break
            busy[user] = True
            conn = free.get_nowait()
            t = asyncio.ensure_future(change(user, conn))
            inflight.add(t)
            t.add_done_callback(inflight.discard)
            issued += 1
        await asyncio.sleep(max(0.0, t_start + (issued) / rate - time.monotonic()))
    elapsed = time.monotonic() - t_start
    if inflight:
        await asyncio.wait(inflight, timeout=30)
    latencies.sort()
    ok = sum(v for k, v in statuses.items() if isinstance(k, int) and 200 <= k < 300)

    def q(p):
        return f"{latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000:.1f}" if latencies else "-"

    fields = {
        "changes": ok, "requests": sum(statuses.values()), "seconds": f"{elapsed:.1f}",
        "rate": f"{ok / elapsed:.1f}", "target_rate": rate, "skipped": skipped,
        "errors": ";".join(f"{k}:{v}" for k, v in statuses.items()
                           if not (isinstance(k, int) and 200 <= k < 300)) or "none",
        "kinds": ";".join(f"{k}:{v}" for k, v in kinds.items()), "http_p50_ms": q(0.5), "http_p99_ms": q(0.99),
    }
    print("LOAD " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    a = sys.argv[2:]
    if cmd == "tokens":
        tokens()
    elif cmd == "idle":
        asyncio.run(idle(a[0], a[1], int(a[2]), int(a[3])))
    elif cmd == "listen":
        asyncio.run(listen(a[0], a[1], a[2]))
    elif cmd == "load":
        asyncio.run(load(a[0], a[1], float(a[2]), float(a[3]), int(a[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
