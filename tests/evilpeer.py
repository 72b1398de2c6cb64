#!/usr/bin/env python3
"""Scripted SSH peers that misbehave on purpose, for protocol-abuse tests.

    evilpeer.py serve MODE PORTFILE LOGFILE
        Listen on an ephemeral 127.0.0.1 port, write the port number to
        PORTFILE, and play MODE against every client that connects.
        Events go to LOGFILE, one per line.  Exits by itself after
        LIFETIME seconds (environment, default 120).

    evilpeer.py probe PORT
        Act as a client against a real server on 127.0.0.1:PORT: print
        the name-lists of the server's KEXINIT ("kex a,b,c" and so on).

Modes:
    strict-ignore        version + KEXINIT offering kex-strict-s-v00, read
                         the client's KEXINIT and first KEX packet, then
                         send SSH_MSG_IGNORE where the KEX reply belongs
    strict-ignore-first  SSH_MSG_IGNORE before the KEXINIT (this shifts
                         the sequence numbers, as a Terrapin attacker does)
    nonstrict-ignore     like strict-ignore, but no strict KEX offered
    banner-lines         a few text lines, then the version line; log
                         whether the client's KEXINIT arrives, then close
    endless-banner       text lines without a version line, forever
    long-line            one line without a newline, forever
    silent               accept the connection and never say anything
    garbage              an HTTP-looking reply, then close
"""

import os
import socket
import struct
import sys
import threading
import time

LIFETIME = float(os.environ.get("LIFETIME", "120"))
# no single send/recv waits longer than this
IO_TIMEOUT = 30.0

KEX = ("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
       "diffie-hellman-group14-sha256")
HOSTKEY = "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256"
CIPHERS = ("chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,"
           "aes128-gcm@openssh.com,aes128-ctr,aes256-ctr")
MACS = ("hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
        "hmac-sha2-256,hmac-sha2-512")

MSG_IGNORE = 2
MSG_KEXINIT = 20

NAMELISTS = ("kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s",
             "mac_s2c", "comp_c2s", "comp_s2c", "lang_c2s", "lang_s2c")

_log_lock = threading.Lock()
_log_path = None


def log(msg):
    with _log_lock:
        with open(_log_path, "a") as f:
            f.write(msg + "\n")


def sshstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def packet(payload):
    """An unencrypted binary packet (RFC 4253 section 6), block size 8."""
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return (struct.pack(">IB", 1 + len(payload) + pad, pad) + payload +
            os.urandom(pad))


def kexinit(strict):
    kex = KEX + (",kex-strict-s-v00@openssh.com" if strict else "")
    lists = [kex, HOSTKEY, CIPHERS, CIPHERS, MACS, MACS, "none", "none",
             "", ""]
    body = bytes([MSG_KEXINIT]) + os.urandom(16)
    for l in lists:
        body += sshstr(l)
    return packet(body + b"\x00" + struct.pack(">I", 0))


def parse_kexinit(payload):
    """name -> list of names, from a KEXINIT payload."""
    off = 17
    out = {}
    for name in NAMELISTS:
        (n,) = struct.unpack(">I", payload[off:off + 4])
        off += 4
        out[name] = payload[off:off + n].decode(errors="replace").split(",")
        off += n
    return out


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("peer closed")
        self.buf += d

    def line(self, limit=8192):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self._fill()
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r")

    def version(self):
        """The peer's version line (skipping any lines before it)."""
        for _ in range(1024):
            l = self.line()
            if l.startswith(b"SSH-"):
                return l
        raise ValueError("no version line")

    def packet(self):
        while len(self.buf) < 4:
            self._fill()
        (n,) = struct.unpack(">I", self.buf[:4])
        if n > 256 * 1024:
            raise ValueError("packet length %d" % n)
        while len(self.buf) < 4 + n:
            self._fill()
        pkt, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        pad = pkt[0]
        return pkt[1:n - pad]

    def send(self, data):
        self.s.sendall(data)


def read_client_kexinit(c):
    v = c.version()
    log("client-version " + v.decode(errors="replace"))
    p = c.packet()
    if p[:1] != bytes([MSG_KEXINIT]):
        log("client-first-packet-type %d" % p[0])
        return None
    k = parse_kexinit(p)
    log("client-kexinit kex=" + ",".join(k["kex"]))
    return k


def hold(c, secs):
    """Keep the connection open until the client goes or secs pass."""
    end = time.monotonic() + secs
    c.s.settimeout(0.5)
    while time.monotonic() < end:
        try:
            if not c.s.recv(65536):
                log("client-closed")
                return
        except socket.timeout:
            continue
        except OSError:
            log("client-closed")
            return
    log("hold-expired")


def mode_strict_ignore(c, strict=True, first=False):
    c.send(b"SSH-2.0-evilpeer_1.0\r\n")
    if first:
        c.send(packet(bytes([MSG_IGNORE]) + sshstr(b"terrapin")))
        log("sent-ignore-before-kexinit")
    c.send(kexinit(strict))
    if read_client_kexinit(c) is None:
        return
    p = c.packet()
    log("client-kex-packet-type %d" % p[0])
    if not first:
        c.send(packet(bytes([MSG_IGNORE]) + sshstr(b"terrapin")))
        log("sent-ignore")
    # No KEX reply ever follows: a client that tolerated the IGNORE
    # waits here and then fails for some other reason.
    hold(c, 10)


def mode_banner_lines(c):
    c.send(b"Welcome to the test peer.\r\n"
           b"This line is not a version line.\r\n"
           b"Neither is this one: SSH- appears only at the start.\r\n"
           b"SSH-2.0-evilpeer_1.0 banner test\r\n")
    c.s.settimeout(10)
    k = read_client_kexinit(c)
    log("got-kexinit" if k is not None else "no-kexinit")


def mode_endless(c, newline=True):
    n = 0
    end = time.monotonic() + 60
    try:
        while time.monotonic() < end:
            if newline:
                c.send(b"still not a version line %d\r\n" % n)
            else:
                c.send(b"A" * 64)
            n += 1
            if n % 64 == 0:
                time.sleep(0.01)
        log("endless-expired")
    except OSError:
        log("client-closed after %d chunks" % n)


def mode_silent(c):
    hold(c, 60)


def mode_garbage(c):
    c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    log("sent-garbage")


MODES = {
    "strict-ignore": lambda c: mode_strict_ignore(c),
    "strict-ignore-first": lambda c: mode_strict_ignore(c, first=True),
    "nonstrict-ignore": lambda c: mode_strict_ignore(c, strict=False),
    "banner-lines": mode_banner_lines,
    "endless-banner": lambda c: mode_endless(c),
    "long-line": lambda c: mode_endless(c, newline=False),
    "silent": mode_silent,
    "garbage": mode_garbage,
}


def handle(mode, sock):
    sock.settimeout(IO_TIMEOUT)
    c = Conn(sock)
    try:
        MODES[mode](c)
    except Exception as e:  # the client going away is part of the game
        log("end %s: %s" % (type(e).__name__, e))
    finally:
        try:
            sock.close()
        except OSError:
            pass


def serve(mode, portfile, logfile):
    global _log_path
    _log_path = logfile
    open(logfile, "a").close()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, portfile)
    end = time.monotonic() + LIFETIME
    while time.monotonic() < end:
        ls.settimeout(max(0.1, end - time.monotonic()))
        try:
            s, _ = ls.accept()
        except socket.timeout:
            break
        log("accepted")
        threading.Thread(target=handle, args=(mode, s), daemon=True).start()


def probe(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    c = Conn(s)
    c.send(b"SSH-2.0-evilpeer_probe\r\n")
    c.version()
    p = c.packet()
    if p[:1] != bytes([MSG_KEXINIT]):
        raise SystemExit("first packet is not KEXINIT")
    for name, vals in parse_kexinit(p).items():
        print(name, ",".join(vals))
    s.close()


def main(argv):
    if len(argv) == 5 and argv[1] == "serve" and argv[2] in MODES:
        serve(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "probe":
        probe(int(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
