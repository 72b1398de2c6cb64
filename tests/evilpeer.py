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
    blackhole            a listener whose accept queue is full: connects
                         hang in SYN_SENT

The modes below play a server that completes a real key exchange
(curve25519-sha256, an ed25519 host key, strict KEX) before its trick,
or shares that code; they need python3-cryptography.  The host key is read
from the OpenSSH private key file $PEER_HOSTKEY (a new one if unset); the
server->client and client->server cipher is $PEER_CIPHER
(chacha20-poly1305@openssh.com, aes128-gcm@openssh.com,
aes256-gcm@openssh.com, aes128-ctr or aes256-ctr), the MAC for CTR
$PEER_MAC (hmac-sha2-256 or hmac-sha2-256-etm@openssh.com).  Every
message from the client is logged as "client-msg N"; user authentication
requests also as "userauth METHOD" (+ " signed" with a signature).

    serve                a working server: any user authentication but
                         "none" succeeds, an exec request prints a line
                         and exits 0
    plain-oversize       before any KEX: a packet length of 256 KiB + 4
    plain-huge           before any KEX: a packet length of 4 GiB - 4
    plain-pad-short      before any KEX: a padding length of 3
    plain-misaligned     before any KEX: length not a block multiple
    banner-then-garbage  the version line, then text instead of packets
    version-too-long     a 300-byte version line
    enc-oversize         after NEWKEYS: an encrypted length of 2 GiB - 16
    enc-pad-short        after NEWKEYS: padding length 2, tag correct
    enc-misaligned       after NEWKEYS: length not a block multiple
    enc-bad-tag          after NEWKEYS: one bit of the tag (or MAC) flipped
    kex-reply-first      the KEX reply before the server's KEXINIT
    kex-newkeys-early    NEWKEYS where the KEX reply belongs
    kex-kexinit-twice    a second KEXINIT where the KEX reply belongs
    kex-reply-twice      the KEX reply twice
    kex-auth-early       USERAUTH_SUCCESS where the KEX reply belongs
    kex-auth-early-nonstrict   the same without strict KEX
    kex-bad-signature    the exchange hash signed wrongly
    kex-zero-point       an all-zero curve25519 public value
    terrapin-newkeys     strict KEX, SSH_MSG_IGNORE between the KEX reply
                         and NEWKEYS
    slow-version         a version line that never ends, one byte a second
    slow-kexinit         the version line, then KEXINIT one byte a second
    chan-unknown         after the exec request: data for channel id + 1
    chan-unknown-big     the same for channel 4294967295
    chan-window-overflow a window adjust that overflows 2^32 - 1
    chan-window-exact    before the exec reply: exactly the client's
                         window of data (then a normal exit)
    chan-beyond-window   before the exec reply: the window plus one byte
    chan-data-after-eof  EOF, then data
    chan-close-twice     CLOSE twice in one write
    chan-data-after-close  CLOSE and data in one write
    chan-eof-after-close CLOSE and EOF in one write
    chan-close-no-status CLOSE without an exit status
    chan-close-before-reply  CLOSE instead of the exec reply
    chan-silent          never answer the exec request
    chan-confirm-twice   a second open confirmation
    chan-unsolicited     CHANNEL_SUCCESS nobody asked for
    chan-server-open     the server opens a channel of its own
"""

import hashlib
import hmac
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

    def take(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

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


# ---- a real SSH server transport (python3-cryptography) -------------------

def load_crypto():
    """Import python3-cryptography for the modes that need it (only
    those: the others start faster without)."""
    global AESGCM, Cipher, algorithms, ed25519, modes, poly1305
    global serialization, x25519
    try:
        from cryptography.hazmat.primitives import poly1305, serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
        from cryptography.hazmat.primitives.ciphers import (Cipher,
                                                            algorithms, modes)
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        return False
    return True


MSG_DISCONNECT = 1
MSG_SERVICE_REQUEST = 5
MSG_SERVICE_ACCEPT = 6
MSG_NEWKEYS = 21
MSG_KEX_ECDH_INIT = 30
MSG_KEX_ECDH_REPLY = 31
MSG_USERAUTH_REQUEST = 50
MSG_USERAUTH_FAILURE = 51
MSG_USERAUTH_SUCCESS = 52
MSG_USERAUTH_PK_OK = 60
MSG_GLOBAL_REQUEST = 80
MSG_REQUEST_FAILURE = 82
MSG_CHANNEL_OPEN = 90
MSG_CHANNEL_OPEN_CONFIRMATION = 91
MSG_CHANNEL_WINDOW_ADJUST = 93
MSG_CHANNEL_DATA = 94
MSG_CHANNEL_EOF = 96
MSG_CHANNEL_CLOSE = 97
MSG_CHANNEL_REQUEST = 98
MSG_CHANNEL_SUCCESS = 99
MSG_CHANNEL_FAILURE = 100

SERVER_VERSION = b"SSH-2.0-evilpeer_1.0"
STRICT_C = "kex-strict-c-v00@openssh.com"
STRICT_S = "kex-strict-s-v00@openssh.com"
MAX_PACKET = 256 * 1024


def u32(n):
    return struct.pack(">I", n)


def mpint(b):
    """An unsigned big-endian number as an SSH mpint."""
    b = b.lstrip(b"\0")
    if b and b[0] & 0x80:
        b = b"\0" + b
    return sshstr(b)


class Reader:
    """Fields of an SSH message, in order."""

    def __init__(self, data, off=1):
        self.d = data
        self.off = off

    def u32(self):
        (n,) = struct.unpack(">I", self.d[self.off:self.off + 4])
        self.off += 4
        return n

    def byte(self):
        self.off += 1
        return self.d[self.off - 1]

    def string(self):
        n = self.u32()
        s = self.d[self.off:self.off + n]
        self.off += n
        return s


class Plain:
    """No protection: before the first NEWKEYS."""
    block, tag_len, excluded, first = 8, 0, False, 4

    def seal(self, seq, pkt):
        return pkt

    def length(self, seq, first):
        return struct.unpack(">I", first[:4])[0]

    def open(self, seq, pkt, tag):
        return pkt


def _chacha(key, seq, counter, data):
    # OpenSSH's layout: 64-bit block counter, 64-bit big-endian seq
    nonce = struct.pack("<I", counter) + b"\0" * 4 + struct.pack(">Q", seq)
    enc = Cipher(algorithms.ChaCha20(key, nonce), mode=None).encryptor()
    return enc.update(data)


class ChaChaPoly:
    """chacha20-poly1305@openssh.com"""
    block, tag_len, excluded, first = 8, 16, True, 4

    def __init__(self, key):
        self.k_main, self.k_len = key[:32], key[32:64]

    def _tag(self, seq, data):
        pk = _chacha(self.k_main, seq, 0, bytes(32))
        return poly1305.Poly1305.generate_tag(pk, data)

    def seal(self, seq, pkt):
        enc = (_chacha(self.k_len, seq, 0, pkt[:4]) +
               _chacha(self.k_main, seq, 1, pkt[4:]))
        return enc + self._tag(seq, enc)

    def length(self, seq, first):
        return struct.unpack(">I", _chacha(self.k_len, seq, 0, first))[0]

    def open(self, seq, enc, tag):
        if not hmac.compare_digest(self._tag(seq, enc), tag):
            raise ValueError("bad poly1305 tag from the client")
        return (_chacha(self.k_len, seq, 0, enc[:4]) +
                _chacha(self.k_main, seq, 1, enc[4:]))


class AesGcm:
    """aes128-gcm@openssh.com, aes256-gcm@openssh.com: length is AAD."""
    block, tag_len, excluded, first = 16, 16, True, 4

    def __init__(self, key, iv):
        self.aead = AESGCM(key)
        self.fixed = iv[:4]
        self.counter = int.from_bytes(iv[4:12], "big")

    def _nonce(self):
        n = self.fixed + self.counter.to_bytes(8, "big")
        self.counter = (self.counter + 1) % (1 << 64)
        return n

    def seal(self, seq, pkt):
        return pkt[:4] + self.aead.encrypt(self._nonce(), pkt[4:], pkt[:4])

    def length(self, seq, first):
        return struct.unpack(">I", first[:4])[0]

    def open(self, seq, enc, tag):
        return enc[:4] + self.aead.decrypt(self._nonce(), enc[4:] + tag,
                                           enc[:4])


class AesCtrHmac:
    """aes128-ctr / aes256-ctr with hmac-sha2-256 or its -etm form."""
    block, tag_len = 16, 32

    def __init__(self, key, iv, mac_key, etm):
        self.x = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
        self.mac_key = mac_key
        self.etm = etm
        self.excluded = etm
        self.first = 4 if etm else 16
        self.first_plain = b""

    def _mac(self, seq, data):
        return hmac.new(self.mac_key, u32(seq) + data, hashlib.sha256).digest()

    def seal(self, seq, pkt):
        if self.etm:
            enc = pkt[:4] + self.x.update(pkt[4:])
            return enc + self._mac(seq, enc)
        return self.x.update(pkt) + self._mac(seq, pkt)

    def length(self, seq, first):
        if self.etm:
            return struct.unpack(">I", first[:4])[0]
        self.first_plain = self.x.update(first)
        return struct.unpack(">I", self.first_plain[:4])[0]

    def open(self, seq, enc, tag):
        if self.etm:
            if not hmac.compare_digest(self._mac(seq, enc), tag):
                raise ValueError("bad MAC from the client")
            return enc[:4] + self.x.update(enc[4:])
        pkt = self.first_plain + self.x.update(enc[16:])
        if not hmac.compare_digest(self._mac(seq, pkt), tag):
            raise ValueError("bad MAC from the client")
        return pkt


def make_protection(cipher, mac, key):
    """The protection for one direction; key(letter, n) derives bytes."""
    if cipher == "chacha20-poly1305@openssh.com":
        return ChaChaPoly(key("key", 64))
    klen = 16 if cipher.startswith("aes128") else 32
    if cipher.endswith("-gcm@openssh.com"):
        return AesGcm(key("key", klen), key("iv", 12))
    return AesCtrHmac(key("key", klen), key("iv", 16), key("mac", 32),
                      mac.endswith("-etm@openssh.com"))


class Transport:
    """Binary packets over a Conn, with the current protection."""

    def __init__(self, conn):
        self.c = conn
        self.tx = Plain()
        self.rx = Plain()
        self.seq_out = 0
        self.seq_in = 0

    def build(self, payload, padlen=None, extra_pad=0):
        """length | padlen | payload | padding, padded as told."""
        head = 0 if self.tx.excluded else 4
        if padlen is None:
            padlen = self.tx.block - (head + 1 + len(payload)) % self.tx.block
            if padlen < 4:
                padlen += self.tx.block
            padlen += extra_pad
        n = 1 + len(payload) + padlen
        return struct.pack(">IB", n, padlen) + payload + os.urandom(padlen)

    def seal(self, pkt, bad_tag=False):
        out = self.tx.seal(self.seq_out, pkt)
        self.seq_out = (self.seq_out + 1) & 0xFFFFFFFF
        if bad_tag:
            out = out[:-1] + bytes([out[-1] ^ 1])
        return out

    def send(self, payload, **kw):
        bad_tag = kw.pop("bad_tag", False)
        self.c.send(self.seal(self.build(payload, **kw), bad_tag))

    def recv(self):
        rx = self.rx
        first = self.c.take(rx.first)
        n = rx.length(self.seq_in, first)
        if n < 5 or n > MAX_PACKET:
            raise ValueError("client packet length %d" % n)
        rest = self.c.take(4 + n - rx.first + rx.tag_len)
        body, tag = rest[:len(rest) - rx.tag_len], rest[len(rest) - rx.tag_len:]
        pkt = rx.open(self.seq_in, first + body, tag)
        self.seq_in = (self.seq_in + 1) & 0xFFFFFFFF
        pad = pkt[4]
        return pkt[5:4 + n - pad]

    def ignore_padded(self, padlen):
        """An IGNORE message padded with padlen bytes yet block-aligned."""
        head = 0 if self.tx.excluded else 4
        fill = 8
        while (head + 1 + 5 + fill + padlen) % self.tx.block:
            fill += 1
        payload = bytes([MSG_IGNORE]) + sshstr(b"x" * fill)
        return self.build(payload, padlen=padlen)


def load_hostkey():
    path = os.environ.get("PEER_HOSTKEY")
    if not path:
        return ed25519.Ed25519PrivateKey.generate()
    with open(path, "rb") as f:
        return serialization.load_ssh_private_key(f.read(), password=None)


def ed25519_blob(pub):
    raw = pub.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return sshstr("ssh-ed25519") + sshstr(raw)


class Server:
    """The server side of one connection, step by step, so that a mode can
    leave steps out, repeat them or put them in the wrong order."""

    def __init__(self, conn):
        self.c = conn
        self.t = Transport(conn)
        self.cipher = os.environ.get("PEER_CIPHER",
                                     "chacha20-poly1305@openssh.com")
        self.mac = os.environ.get("PEER_MAC", "hmac-sha2-256-etm@openssh.com")
        self.hostkey = load_hostkey()
        self.offer_strict = True
        self.strict = False
        self.allow_none = True
        self.chan = None            # the client's channel id
        self.chan_window = 0        # what the client lets us send
        self.v_c = b""
        self.i_c = self.i_s = b""

    # -- key exchange, in steps --

    def version(self):
        self.c.send(SERVER_VERSION + b"\r\n")
        self.v_c = self.c.version()
        log("client-version " + self.v_c.decode(errors="replace"))

    def kexinit(self):
        kex = "curve25519-sha256" + ("," + STRICT_S if self.offer_strict
                                     else "")
        lists = [kex, "ssh-ed25519", self.cipher, self.cipher, self.mac,
                 self.mac, "none", "none", "", ""]
        body = bytes([MSG_KEXINIT]) + os.urandom(16)
        for name in lists:
            body += sshstr(name)
        self.i_s = body + b"\0" + u32(0)
        return self.i_s

    def send_kexinit(self):
        self.t.send(self.kexinit())

    def recv_kexinit(self):
        p = self.expect(MSG_KEXINIT)
        self.i_c = p
        k = parse_kexinit(p)
        log("client-kexinit kex=" + ",".join(k["kex"]))
        self.strict = self.offer_strict and STRICT_C in k["kex"]

    def recv_ecdh_init(self):
        self.q_c = Reader(self.expect(MSG_KEX_ECDH_INIT)).string()

    def kex_reply(self, sign_wrong=False, zero_point=False):
        """The KEX reply; the next keys are staged for NEWKEYS."""
        priv = x25519.X25519PrivateKey.generate()
        q_s = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        if zero_point:
            q_s = bytes(32)
            shared = bytes(32)
        else:
            shared = priv.exchange(
                x25519.X25519PublicKey.from_public_bytes(self.q_c))
        k_s = ed25519_blob(self.hostkey.public_key())
        k = mpint(shared)
        h = hashlib.sha256(
            sshstr(self.v_c) + sshstr(SERVER_VERSION) + sshstr(self.i_c) +
            sshstr(self.i_s) + sshstr(k_s) + sshstr(self.q_c) +
            sshstr(q_s) + k).digest()
        sig = self.hostkey.sign(h + (b"!" if sign_wrong else b""))
        self.stage_keys(k, h)
        return (bytes([MSG_KEX_ECDH_REPLY]) + sshstr(k_s) + sshstr(q_s) +
                sshstr(sshstr("ssh-ed25519") + sshstr(sig)))

    def stage_keys(self, k, h):
        sid = h       # the first exchange's hash is the session id

        def derive(letter, need):
            out = hashlib.sha256(k + h + letter + sid).digest()
            while len(out) < need:
                out += hashlib.sha256(k + h + out).digest()
            return out[:need]

        def direction(iv, key, mac):
            letters = {"iv": iv, "key": key, "mac": mac}
            return make_protection(self.cipher, self.mac,
                                   lambda what, n: derive(letters[what], n))
        self.next_rx = direction(b"A", b"C", b"E")
        self.next_tx = direction(b"B", b"D", b"F")

    def send_newkeys(self):
        self.t.send(bytes([MSG_NEWKEYS]))
        self.t.tx = self.next_tx
        if self.strict:
            self.t.seq_out = 0

    def recv_newkeys(self):
        self.expect(MSG_NEWKEYS)
        self.t.rx = self.next_rx
        if self.strict:
            self.t.seq_in = 0
        log("newkeys")

    def handshake(self):
        self.version()
        self.send_kexinit()
        self.recv_kexinit()
        self.recv_ecdh_init()
        self.t.send(self.kex_reply())
        self.send_newkeys()
        self.recv_newkeys()

    def expect(self, msg):
        p = self.t.recv()
        log("client-msg %d" % p[0])
        if p[0] != msg:
            raise ValueError("expected message %d, got %d" % (msg, p[0]))
        return p

    # -- after the key exchange --

    def serve(self, on_exec=None):
        """Answer the client until it goes; on_exec(self) replaces the
        normal answer to an exec request."""
        while True:
            p = self.t.recv()
            t = p[0]
            log("client-msg %d" % t)
            if t == MSG_SERVICE_REQUEST:
                self.t.send(bytes([MSG_SERVICE_ACCEPT]) +
                            sshstr("ssh-userauth"))
            elif t == MSG_USERAUTH_REQUEST:
                self.userauth(p)
            elif t == MSG_CHANNEL_OPEN:
                self.channel_open(p)
            elif t == MSG_CHANNEL_REQUEST:
                self.channel_request(p, on_exec or Server.exec_ok)
            elif t == MSG_CHANNEL_WINDOW_ADJUST:
                r = Reader(p)
                r.u32()
                self.chan_window += r.u32()
            elif t == MSG_GLOBAL_REQUEST:
                r = Reader(p)
                r.string()
                if r.byte():
                    self.t.send(bytes([MSG_REQUEST_FAILURE]))
            elif t == MSG_DISCONNECT:
                return

    def userauth(self, p):
        r = Reader(p)
        r.string()
        r.string()
        method = r.string().decode(errors="replace")
        signed = method == "publickey" and r.byte() == 1
        log("userauth " + method + (" signed" if signed else ""))
        if method == "publickey" and not signed:
            alg = r.string()
            blob = r.string()
            self.t.send(bytes([MSG_USERAUTH_PK_OK]) + sshstr(alg) +
                        sshstr(blob))
        elif method != "none" or self.allow_none:
            self.t.send(bytes([MSG_USERAUTH_SUCCESS]))
        else:
            self.t.send(bytes([MSG_USERAUTH_FAILURE]) +
                        sshstr("publickey,password") + b"\0")

    def channel_open(self, p):
        r = Reader(p)
        r.string()
        self.chan = r.u32()
        self.chan_window = r.u32()
        r.u32()
        self.t.send(bytes([MSG_CHANNEL_OPEN_CONFIRMATION]) + u32(self.chan) +
                    u32(0) + u32(1 << 20) + u32(32768))

    def channel_request(self, p, on_exec):
        r = Reader(p)
        r.u32()
        kind = r.string()
        want_reply = r.byte()
        log("channel-request %s" % kind.decode(errors="replace"))
        if kind == b"exec":
            on_exec(self)
        elif want_reply:
            self.chan_msg(MSG_CHANNEL_FAILURE)

    # -- channel messages to the client --

    def chan_msg(self, msg, chan=None, body=b""):
        return self.chan_packet(msg, chan, body, send=True)

    def chan_packet(self, msg, chan=None, body=b"", send=False):
        payload = bytes([msg]) + u32(self.chan if chan is None else chan)
        payload += body
        if send:
            self.t.send(payload)
        return payload

    def data(self, data, chan=None):
        self.chan_msg(MSG_CHANNEL_DATA, chan, sshstr(data))

    def exit_status(self, code):
        self.chan_msg(MSG_CHANNEL_REQUEST, None,
                      sshstr("exit-status") + b"\0" + u32(code))

    def exec_ok(self):
        self.chan_msg(MSG_CHANNEL_SUCCESS)
        self.data(b"hello from evilpeer\n")
        self.finish()

    def finish(self, code=0):
        self.exit_status(code)
        self.chan_msg(MSG_CHANNEL_EOF)
        self.chan_msg(MSG_CHANNEL_CLOSE)

    def send_together(self, *payloads):
        """Several packets in one write: they arrive in one read."""
        self.c.send(b"".join(self.t.seal(self.t.build(p)) for p in payloads))


# -- the modes that need the real transport --

def mode_serve(c):
    s = Server(c)
    s.allow_none = False
    s.handshake()
    s.serve()


def mode_plain(fault):
    def run(c):
        s = Server(c)
        s.version()
        t = s.t
        if fault == "oversize":
            pkt = u32(MAX_PACKET + 4) + b"\x04" + bytes(59)
        elif fault == "huge":
            pkt = u32(0xFFFFFFFC) + b"\x04" + bytes(59)
        elif fault == "pad-short":
            pkt = t.ignore_padded(3)
        else:
            pkt = t.build(bytes([MSG_IGNORE]) + sshstr(b"x" * 20), extra_pad=1)
        c.send(pkt)
        log("sent-fault")
        hold(c, 10)
    return run


def mode_banner_then_garbage(c):
    c.send(SERVER_VERSION + b"\r\n")
    c.send(b"this is not an SSH binary packet\r\n" * 4)
    log("sent-fault")
    hold(c, 10)


def mode_version_too_long(c):
    c.send(b"SSH-2.0-" + b"A" * 300 + b"\r\n")
    hold(c, 10)


def mode_enc(fault):
    """A fault in the first packet under the new keys (where the client
    waits for SERVICE_ACCEPT)."""
    def run(c):
        s = Server(c)
        s.handshake()
        t = s.t
        if fault == "oversize":
            c.send(t.seal(u32(0x7FFFFFF0) + b"\x04" + bytes(59)))
        elif fault == "pad-short":
            c.send(t.seal(t.ignore_padded(2)))
        elif fault == "misaligned":
            c.send(t.seal(t.build(bytes([MSG_IGNORE]) + sshstr(b"x" * 20),
                                  extra_pad=1)))
        else:
            t.send(bytes([MSG_SERVICE_ACCEPT]) + sshstr("ssh-userauth"),
                   bad_tag=True)
        log("sent-fault")
        hold(c, 10)
    return run


def kex_until_reply(s):
    s.version()
    s.send_kexinit()
    s.recv_kexinit()
    s.recv_ecdh_init()


def mode_kex(fault):
    def run(c):
        s = Server(c)
        t = s.t
        if fault == "reply-first":
            s.version()
            t.send(bytes([MSG_KEX_ECDH_REPLY]) + sshstr(b"") + sshstr(b"") +
                   sshstr(b""))
        elif fault == "auth-early-nonstrict":
            s.offer_strict = False
            kex_until_reply(s)
            t.send(bytes([MSG_USERAUTH_SUCCESS]))
        else:
            kex_until_reply(s)
        if fault == "newkeys-early":
            t.send(bytes([MSG_NEWKEYS]))
        elif fault == "kexinit-twice":
            s.send_kexinit()
        elif fault == "reply-twice":
            reply = s.kex_reply()
            t.send(reply)
            t.send(reply)
        elif fault == "auth-early":
            t.send(bytes([MSG_USERAUTH_SUCCESS]))
        elif fault == "bad-signature":
            t.send(s.kex_reply(sign_wrong=True))
        elif fault == "zero-point":
            t.send(s.kex_reply(zero_point=True))
        elif fault == "terrapin-newkeys":
            t.send(s.kex_reply())
            t.send(bytes([MSG_IGNORE]) + sshstr(b"terrapin"))
            s.send_newkeys()
        log("sent-fault")
        hold(c, 10)
    return run


def drip(c, data):
    """Send data one byte a second."""
    for i in range(len(data)):
        c.send(data[i:i + 1])
        time.sleep(1)


def mode_slow_version(c):
    drip(c, b"SSH-2.0-" + b"slowloris" * 100)
    log("drip-expired")


def mode_slow_kexinit(c):
    s = Server(c)
    c.send(SERVER_VERSION + b"\r\n")
    drip(c, s.t.build(s.kexinit()))
    log("drip-expired")


def mode_chan(game):
    def run(c):
        s = Server(c)
        s.handshake()
        s.serve(on_exec=game)
    return run


def game_unknown(chan=None):
    def g(s):
        s.chan_msg(MSG_CHANNEL_SUCCESS)
        s.data(b"for nobody\n", chan if chan is not None else s.chan + 1)
        s.finish()
    return g


def game_window_overflow(s):
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.chan_msg(MSG_CHANNEL_WINDOW_ADJUST, None, u32(0xFFFFFFFF))
    s.data(b"still here\n")
    s.finish()


def game_window(extra):
    """The client's whole window (plus extra bytes) before the reply: no
    window adjust can have come back, the client has read nothing yet."""
    def g(s):
        left = s.chan_window + extra
        chunk = 32768
        while left > 0:
            n = min(chunk, left)
            s.data(b"w" * n)
            left -= n
        log("sent-window %d+%d" % (s.chan_window, extra))
        s.chan_msg(MSG_CHANNEL_SUCCESS)
        s.finish()
    return g


def game_data_after_eof(s):
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.chan_msg(MSG_CHANNEL_EOF)
    s.data(b"after EOF\n")
    s.finish()


def game_together(*tail):
    def g(s):
        s.chan_msg(MSG_CHANNEL_SUCCESS)
        s.exit_status(0)
        payloads = []
        for what in tail:
            if what == "close":
                payloads.append(s.chan_packet(MSG_CHANNEL_CLOSE))
            elif what == "eof":
                payloads.append(s.chan_packet(MSG_CHANNEL_EOF))
            else:
                payloads.append(s.chan_packet(MSG_CHANNEL_DATA, None,
                                              sshstr(b"late\n")))
        s.send_together(*payloads)
    return g


def game_close_no_status(s):
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.chan_msg(MSG_CHANNEL_EOF)
    s.chan_msg(MSG_CHANNEL_CLOSE)


def game_close_before_reply(s):
    s.chan_msg(MSG_CHANNEL_CLOSE)


def game_silent(s):
    log("exec-ignored")


def game_confirm_twice(s):
    s.t.send(bytes([MSG_CHANNEL_OPEN_CONFIRMATION]) + u32(s.chan) + u32(0) +
             u32(1 << 20) + u32(32768))
    s.exec_ok()


def game_unsolicited(s):
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.finish()


def game_server_open(s):
    s.chan_msg(MSG_CHANNEL_SUCCESS)
    s.t.send(bytes([MSG_CHANNEL_OPEN]) + sshstr("x11") + u32(5) +
             u32(1 << 20) + u32(32768) + sshstr("127.0.0.1") + u32(6010))
    s.finish()


CRYPTO_MODES = {
    "serve": mode_serve,
    "plain-oversize": mode_plain("oversize"),
    "plain-huge": mode_plain("huge"),
    "plain-pad-short": mode_plain("pad-short"),
    "plain-misaligned": mode_plain("misaligned"),
    "banner-then-garbage": mode_banner_then_garbage,
    "version-too-long": mode_version_too_long,
    "enc-oversize": mode_enc("oversize"),
    "enc-pad-short": mode_enc("pad-short"),
    "enc-misaligned": mode_enc("misaligned"),
    "enc-bad-tag": mode_enc("bad-tag"),
    "kex-reply-first": mode_kex("reply-first"),
    "kex-newkeys-early": mode_kex("newkeys-early"),
    "kex-kexinit-twice": mode_kex("kexinit-twice"),
    "kex-reply-twice": mode_kex("reply-twice"),
    "kex-auth-early": mode_kex("auth-early"),
    "kex-auth-early-nonstrict": mode_kex("auth-early-nonstrict"),
    "kex-bad-signature": mode_kex("bad-signature"),
    "kex-zero-point": mode_kex("zero-point"),
    "terrapin-newkeys": mode_kex("terrapin-newkeys"),
    "slow-version": mode_slow_version,
    "slow-kexinit": mode_slow_kexinit,
    "chan-unknown": mode_chan(game_unknown()),
    "chan-unknown-big": mode_chan(game_unknown(chan=0xFFFFFFFF)),
    "chan-window-overflow": mode_chan(game_window_overflow),
    "chan-window-exact": mode_chan(game_window(0)),
    "chan-beyond-window": mode_chan(game_window(1)),
    "chan-data-after-eof": mode_chan(game_data_after_eof),
    "chan-close-twice": mode_chan(game_together("close", "close")),
    "chan-data-after-close": mode_chan(game_together("close", "data")),
    "chan-eof-after-close": mode_chan(game_together("close", "eof")),
    "chan-close-no-status": mode_chan(game_close_no_status),
    "chan-close-before-reply": mode_chan(game_close_before_reply),
    "chan-silent": mode_chan(game_silent),
    "chan-confirm-twice": mode_chan(game_confirm_twice),
    "chan-unsolicited": mode_chan(game_unsolicited),
    "chan-server-open": mode_chan(game_server_open),
}


MODES = {
    "strict-ignore": lambda c: mode_strict_ignore(c),
    "strict-ignore-first": lambda c: mode_strict_ignore(c, first=True),
    "nonstrict-ignore": lambda c: mode_strict_ignore(c, strict=False),
    "banner-lines": mode_banner_lines,
    "endless-banner": lambda c: mode_endless(c),
    "long-line": lambda c: mode_endless(c, newline=False),
    "silent": mode_silent,
    "garbage": mode_garbage,
    "blackhole": None,          # see serve()
}
MODES.update(CRYPTO_MODES)


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


def fill_accept_queue(ls):
    """A listener that never accepts, its queue full: the kernel drops
    every further SYN, as a firewall that drops packets does.  Returns
    the connection that fills it (keep it open)."""
    ls.listen(0)
    return socket.create_connection(ls.getsockname(), timeout=5)


def serve(mode, portfile, logfile):
    global _log_path
    _log_path = logfile
    open(logfile, "a").close()
    if mode in CRYPTO_MODES and not load_crypto():
        sys.stderr.write("evilpeer: mode %s needs python3-cryptography\n"
                         % mode)
        return 1
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    end = time.monotonic() + LIFETIME
    if mode == "blackhole":
        filler = fill_accept_queue(ls)
    else:
        ls.listen(16)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, portfile)
    if mode == "blackhole":
        log("accept queue full")
        time.sleep(LIFETIME)
        filler.close()
        return 0
    while time.monotonic() < end:
        ls.settimeout(max(0.1, end - time.monotonic()))
        try:
            s, _ = ls.accept()
        except socket.timeout:
            break
        log("accepted")
        threading.Thread(target=handle, args=(mode, s), daemon=True).start()
    return 0


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
        return serve(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "probe":
        probe(int(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
