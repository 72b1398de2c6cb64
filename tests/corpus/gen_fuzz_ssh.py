#!/usr/bin/env python3
"""Seed corpus for tests/fuzz_ssh: the server's side of conversations
with the harness's client, whose random numbers are fixed, so that key
exchanges verify and what follows NEWKEYS decrypts.

    tests/corpus/gen_fuzz_ssh.py [--capture PORT]

With --capture, the version line and KEXINIT of the sshd listening on
127.0.0.1:PORT are first recorded in fuzz_ssh/sshd-hello; the other
seeds reuse that KEXINIT.  The client's algorithm lists are read from
the sources.  Needs the cryptography package.
"""
import hashlib
import hmac
import os
import random
import re
import socket
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (ec, ed25519,
                                                       padding, rsa, x25519)
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)
from cryptography.hazmat.primitives.ciphers import (Cipher, algorithms,
                                                    modes)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "fuzz_ssh")

# The input header, as tests/fuzz_ssh.c reads it.
F_ESTABLISHED, F_LEGACY, F_VERBOSE = 0x01, 0x02, 0x04
F_CHAN_PENDING, F_REQ_PENDING, F_READ, F_WRITE = 0x08, 0x10, 0x20, 0x40
F_AUTH = 0x80
M_PUBKEY, M_PASSWORD, M_KBDINT = 1, 2, 3
# What the harness sets up for F_ESTABLISHED.
EST_VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10"
EST_SESSION_ID = bytes(0xa0 + i for i in range(32))
KNOWN_TYPES = ["ssh-ed25519"]

CLIENT_VERSION = b"SSH-2.0-remowt_0.1"

DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG = 1, 2, 3, 4
SERVICE_ACCEPT, EXT_INFO = 6, 7
KEXINIT, NEWKEYS, KEX_REPLY = 20, 21, 31
USERAUTH_FAILURE, USERAUTH_SUCCESS, USERAUTH_BANNER = 51, 52, 53
USERAUTH_60 = 60        # PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST
GLOBAL_REQUEST, REQUEST_SUCCESS, REQUEST_FAILURE = 80, 81, 82
CHANNEL_OPEN, OPEN_CONFIRMATION, OPEN_FAILURE = 90, 91, 92
WINDOW_ADJUST, DATA, EXTENDED_DATA, EOF, CLOSE = 93, 94, 95, 96, 97
CHANNEL_REQUEST, CHANNEL_SUCCESS, CHANNEL_FAILURE = 98, 99, 100

DH14_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D"
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def u8(v):
    return bytes([v])


def u32(v):
    return struct.pack(">I", v)


def string(b):
    if isinstance(b, str):
        b = b.encode()
    return u32(len(b)) + b


def mpint(v):
    if v == 0:
        return u32(0)
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return string(b)


def c_string(path, name):
    """The value of a string constant in the C sources."""
    with open(os.path.join(TOP, path)) as f:
        src = f.read()
    m = re.search(re.escape(name) + r'[\s\[\]=\\]*((?:"[^"]*"\s*)+)', src)
    return "".join(re.findall(r'"([^"]*)"', m.group(1)))


def choose(ours, theirs):
    for name in ours.split(","):
        if name in theirs.split(","):
            return name
    raise ValueError("no common algorithm in %s / %s" % (ours, theirs))


def rnd(n):
    """What the harness's getrandom() hands out."""
    return bytes((i + 1) & 0xff for i in range(n))


# ------------------------------------------------------------------
# The client

class Client:
    def __init__(self, legacy=False):
        self.kex = c_string("kex.c", "kex_default_list")
        hostkey = c_string("ssh_min.c", "DEFAULT_HOSTKEY_ALGS")
        self.cipher = c_string("cipher.c", "cipher_default_list")
        self.mac = c_string("cipher.c", "mac_default_list")
        if legacy:
            self.kex += ",diffie-hellman-group14-sha1"
            self.hostkey = hostkey + ",ssh-rsa"
            self.mac += ",hmac-sha1,hmac-sha1-etm@openssh.com"
        else:
            # prefer_known_hostkey_algs()
            names = hostkey.split(",")
            first = [n for n in names if key_type(n) in KNOWN_TYPES]
            rest = [n for n in names if key_type(n) not in KNOWN_TYPES]
            self.hostkey = ",".join(first + rest)

    def kexinit(self, first):
        kex = self.kex
        if first:
            kex += ",ext-info-c,kex-strict-c-v00@openssh.com"
        lists = [kex, self.hostkey, self.cipher, self.cipher, self.mac,
                 self.mac, "none", "none", "", ""]
        return (u8(KEXINIT) + rnd(16) + b"".join(map(string, lists)) +
                u8(0) + u32(0))


def key_type(alg):
    return "ssh-rsa" if alg.startswith("rsa-sha2-") else alg


def parse_kexinit(payload):
    p = 17
    lists = []
    for _ in range(10):
        n = struct.unpack(">I", payload[p:p + 4])[0]
        lists.append(payload[p + 4:p + 4 + n].decode())
        p += 4 + n
    return lists


def server_kexinit(kex="curve25519-sha256", hostkey="ssh-ed25519",
                   cipher="chacha20-poly1305@openssh.com",
                   mac="hmac-sha2-256-etm@openssh.com", follows=0,
                   comp="none", strict=True):
    if strict:
        kex += ",kex-strict-s-v00@openssh.com"
    lists = [kex, hostkey, cipher, cipher, mac, mac, comp, comp, "", ""]
    return (u8(KEXINIT) + bytes(range(0x30, 0x40)) +
            b"".join(map(string, lists)) + u8(follows) + u32(0))


# ------------------------------------------------------------------
# Host keys: the first two are in the harness's known_hosts

def ed25519_key(label):
    seed = hashlib.sha256(label).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def ecdsa_key(label):
    d = int.from_bytes(hashlib.sha256(label).digest(), "big")
    return ec.derive_private_key(d % (2**256 - 2**224) + 1, ec.SECP256R1())


def is_probable_prime(n):
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47)
    for p in small:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_key(label, bits=1024):
    rng = random.Random(hashlib.sha256(label).digest())
    e = 65537

    def prime():
        while True:
            c = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if (c - 1) % e and is_probable_prime(c):
                return c
    p, q = prime(), prime()
    n, d = p * q, pow(e, -1, (p - 1) * (q - 1))
    return rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
        rsa.RSAPublicNumbers(e, n)).private_key()


class HostKey:
    def __init__(self, key):
        self.key = key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.blob = string("ssh-ed25519") + string(raw)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            q = key.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint)
            self.blob = (string("ecdsa-sha2-nistp256") + string("nistp256") +
                         string(q))
        else:
            pn = key.public_key().public_numbers()
            self.blob = string("ssh-rsa") + mpint(pn.e) + mpint(pn.n)

    def sign(self, alg, data):
        k = self.key
        if alg == "ssh-ed25519":
            sig = k.sign(data)
        elif alg == "ecdsa-sha2-nistp256":
            try:
                how = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
            except TypeError:
                how = ec.ECDSA(hashes.SHA256())
            r, s = decode_dss_signature(k.sign(data, how))
            sig = mpint(r) + mpint(s)
        else:
            h = {"rsa-sha2-256": hashes.SHA256(),
                 "rsa-sha2-512": hashes.SHA512(),
                 "ssh-rsa": hashes.SHA1()}[alg]
            sig = k.sign(data, padding.PKCS1v15(), h)
        return string(alg) + string(sig)


ED25519 = HostKey(ed25519_key(b"remowt fuzz_ssh host key"))
ED25519_REVOKED = HostKey(ed25519_key(b"remowt fuzz_ssh ed25519 revoked"))
ED25519_OTHER = HostKey(ed25519_key(b"remowt fuzz_ssh ed25519 other"))
ECDSA = HostKey(ecdsa_key(b"remowt fuzz_ssh ecdsa known"))
RSA = HostKey(rsa_key(b"remowt fuzz_ssh rsa"))


# ------------------------------------------------------------------
# Key exchange, from the server's side

def kex_hash(name):
    return hashlib.sha1 if name.endswith("-sha1") else hashlib.sha256


def kex_values(name):
    """Client and server public values (as sent) and the secret K."""
    server = hashlib.sha256(b"remowt fuzz_ssh server " + name.encode())
    if name.startswith("curve25519"):
        c = x25519.X25519PrivateKey.from_private_bytes(rnd(32))
        s = x25519.X25519PrivateKey.from_private_bytes(server.digest())
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        qc, qs = c.public_key().public_bytes(*raw), s.public_key().public_bytes(*raw)
        k = int.from_bytes(s.exchange(c.public_key()), "big")
        return string(qc), string(qs), k
    if name == "ecdh-sha2-nistp256":
        c = ec.derive_private_key(int.from_bytes(rnd(32), "big"),
                                  ec.SECP256R1())
        s = ecdsa_key(server.digest())
        x962 = (serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint)
        qc, qs = c.public_key().public_bytes(*x962), s.public_key().public_bytes(*x962)
        k = int.from_bytes(s.exchange(ec.ECDH(), c.public_key()), "big")
        return string(qc), string(qs), k
    x = bytearray(rnd(64))
    x[0] |= 0x80
    x = int.from_bytes(x, "big")
    y = int.from_bytes(server.digest(), "big")
    e, f = pow(2, x, DH14_P), pow(2, y, DH14_P)
    return mpint(e), mpint(f), pow(e, y, DH14_P)


CIPHERS = {   # key, iv, block
    "chacha20-poly1305@openssh.com": (64, 0, 8),
    "aes128-ctr": (16, 16, 16), "aes256-ctr": (32, 16, 16),
    "aes128-gcm@openssh.com": (16, 12, 16),
    "aes256-gcm@openssh.com": (32, 12, 16),
}
MACS = {      # key, etm, hash
    "hmac-sha2-256-etm@openssh.com": (32, True, hashlib.sha256),
    "hmac-sha2-512-etm@openssh.com": (64, True, hashlib.sha512),
    "hmac-sha1-etm@openssh.com": (20, True, hashlib.sha1),
    "hmac-sha2-256": (32, False, hashlib.sha256),
    "hmac-sha2-512": (64, False, hashlib.sha512),
    "hmac-sha1": (20, False, hashlib.sha1),
}


def derive(hashf, k, h, letter, sid, need):
    kmp = mpint(k)
    out = hashf(kmp + h + letter + sid).digest()
    while len(out) < need:
        out += hashf(kmp + h + out).digest()
    return out[:need]


class Protection:
    """The server-to-client direction after NEWKEYS."""

    def __init__(self, cipher, mac, key, iv, mac_key):
        self.cipher, self.key, self.iv = cipher, key, bytearray(iv)
        self.block = CIPHERS[cipher][2]
        self.aead = "gcm" in cipher or "chacha" in cipher
        self.mac = None if self.aead else MACS[mac]
        self.mac_key = mac_key
        if cipher.endswith("-ctr"):
            self.ctr = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()

    def excluded(self):
        return self.aead or self.mac[1]

    def seal(self, seq, pkt):
        if "chacha" in self.cipher:
            nonce = lambda ctr: u32(ctr)[::-1] + bytes(8) + u32(seq)
            run = lambda k, ctr, d: Cipher(algorithms.ChaCha20(k, nonce(ctr)),
                                           None).encryptor().update(d)
            main, length = self.key[:32], self.key[32:]
            ct = run(length, 0, pkt[:4]) + run(main, 1, pkt[4:])
            return ct + Poly1305.generate_tag(run(main, 0, bytes(32)), ct)
        if "gcm" in self.cipher:
            ct = AESGCM(self.key).encrypt(bytes(self.iv), pkt[4:], pkt[:4])
            n = int.from_bytes(self.iv[4:], "big") + 1
            self.iv[4:] = (n % 2**64).to_bytes(8, "big")
            return pkt[:4] + ct
        _, etm, hashf = self.mac
        if etm:
            ct = pkt[:4] + self.ctr.update(pkt[4:])
            return ct + hmac.new(self.mac_key, u32(seq) + ct, hashf).digest()
        tag = hmac.new(self.mac_key, u32(seq) + pkt, hashf).digest()
        return self.ctr.update(pkt) + tag


class Server:
    """What the server sends, packet by packet."""

    def __init__(self, version=None, session_id=b""):
        self.data = bytearray()
        self.seq = 0
        self.prot = None
        self.version = version
        self.session_id = session_id
        self.strict = bool(session_id)
        self.marks = []

    def mark(self):
        self.marks.append(len(self.data))

    def raw(self, b):
        self.data += b

    def send(self, payload, padlen=None):
        bs, excluded = 8, False
        if self.prot is not None:
            bs, excluded = self.prot.block, self.prot.excluded()
        if padlen is None:
            padlen = bs - (len(payload) + 1 + (0 if excluded else 4)) % bs
            if padlen < 4:
                padlen += bs
        pkt = u32(1 + len(payload) + padlen) + u8(padlen) + payload
        pkt += bytes(padlen)
        if self.prot is not None:
            pkt = self.prot.seal(self.seq, pkt)
        self.data += pkt
        self.seq = (self.seq + 1) % 2**32

    def kex(self, client, i_s, hostkey, first, corrupt_sig=False):
        """Answer the client's KEX_INIT to our KEXINIT i_s, then NEWKEYS;
        the client's KEXINIT is computed, not read."""
        ours = parse_kexinit(i_s)
        i_c = client.kexinit(first)
        if first:
            self.strict = "kex-strict-s-v00@openssh.com" in ours[0].split(",")
        kex = choose(client.kex, ours[0])
        alg = choose(client.hostkey, ours[1])
        cipher = choose(client.cipher, ours[3])
        mac = None
        if not ("gcm" in cipher or "chacha" in cipher):
            mac = choose(client.mac, ours[5])
        qc, qs, k = kex_values(kex)
        hashf = kex_hash(kex)
        h = hashf(string(CLIENT_VERSION) + string(self.version) +
                  string(i_c) + string(i_s) + string(hostkey.blob) + qc + qs +
                  mpint(k)).digest()
        sig = hostkey.sign(alg, h)
        if corrupt_sig:
            sig = sig[:-1] + bytes([sig[-1] ^ 1])
        self.send(u8(KEX_REPLY) + string(hostkey.blob) + qs + string(sig))
        self.send(u8(NEWKEYS))
        if not self.session_id:
            self.session_id = h
        klen, ivlen, _ = CIPHERS[cipher]
        mlen = MACS[mac][0] if mac else 0
        sid = self.session_id
        self.prot = Protection(cipher, mac,
                               derive(hashf, k, h, b"D", sid, klen),
                               derive(hashf, k, h, b"B", sid, ivlen),
                               derive(hashf, k, h, b"F", sid, mlen))
        if self.strict:
            self.seq = 0


# ------------------------------------------------------------------
# Messages

def ext_info(*pairs):
    return u8(EXT_INFO) + u32(len(pairs)) + b"".join(
        string(k) + string(v) for k, v in pairs)


def disconnect(code, text):
    return u8(DISCONNECT) + u32(code) + string(text) + string("")


def debug(text):
    return u8(DEBUG) + u8(1) + string(text) + string("")


def ignore(data):
    return u8(IGNORE) + string(data)


def global_request(name, want_reply):
    return u8(GLOBAL_REQUEST) + string(name) + u8(want_reply)


def chan(t, rid=0, rest=b""):
    return u8(t) + u32(rid) + rest


def chan_request(rid, name, want_reply, rest=b""):
    return chan(CHANNEL_REQUEST, rid, string(name) + u8(want_reply) + rest)


def confirmation(rid, window=2 * 1024 * 1024, maxpkt=32768):
    return chan(OPEN_CONFIRMATION, rid, u32(0x200 + rid) + u32(window) +
                u32(maxpkt))


def info_request(name, instruction, prompts):
    return (u8(USERAUTH_60) + string(name) + string(instruction) +
            string("") + u32(len(prompts)) +
            b"".join(string(p) + u8(echo) for p, echo in prompts))


def after_auth(s):
    """The server's part of a session once USERAUTH_SUCCESS is out: the
    client opens its channel after that, and sends exec once open."""
    s.mark()
    s.send(global_request("hostkeys-00@openssh.com", 0))
    s.send(confirmation(0))
    s.send(chan(WINDOW_ADJUST, 0, u32(1 << 20)))
    s.mark()
    s.send(chan(CHANNEL_SUCCESS, 0))
    s.send(chan(DATA, 0, string("hello from the server\n")))
    s.send(chan(EXTENDED_DATA, 0, u32(1) + string("warning: on stderr\n")))
    s.send(chan_request(0, "exit-status", 0, u32(3)))
    s.send(chan(EOF, 0))
    s.send(chan(CLOSE, 0))


# ------------------------------------------------------------------
# Seeds

def read_ends(chunking, total):
    """Where the harness's reads end, for the header byte chunking."""
    if chunking == 0:
        return {total}
    x = 0x9e3779b9 ^ ((chunking << 8) | chunking)
    size = 1 << (chunking & 15)
    ends, off = set(), 0
    while off < total:
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        off = min(off + 1 + x % size, total)
        ends.add(off)
    return ends


def chunking_for(server, shift):
    """A header byte whose reads of up to 2^shift bytes end after each
    packet marked: the client acts on those before reading on."""
    for high in range(16):
        b = high << 4 | shift
        if b and set(server.marks) <= read_ends(b, len(server.data)):
            return b
    return shift << 4      # one byte per read ends everywhere


def seed(name, flags, chunking, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([flags, chunking]) + bytes(data))


def capture(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(CLIENT_VERSION + b"\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            raise SystemExit("the server closed the connection")
        data += d
        if b"\n" in data:
            rest = data.split(b"\n", 1)[1]
            if len(rest) >= 4 and len(rest) >= 4 + struct.unpack(
                    ">I", rest[:4])[0]:
                break
    s.close()
    seed("sshd-hello", 0, 0, data)


def load_hello():
    with open(os.path.join(OUT, "sshd-hello"), "rb") as f:
        data = f.read()[2:]
    line, rest = data.split(b"\n", 1)
    version = line.rstrip(b"\r")
    n, padlen = struct.unpack(">IB", rest[:5])
    return version, rest[5:4 + n - padlen]


def handshake_seeds():
    version, sshd_kexinit = load_hello()
    client = Client()

    def conversation(kexinit=sshd_kexinit, hostkey=ED25519, banner=b"",
                     after=(), corrupt_sig=False):
        s = Server(version)
        s.raw(banner + version + b"\r\n")
        s.send(kexinit)
        s.kex(client, kexinit, hostkey, True, corrupt_sig)
        for m in after:
            s.send(m)
        return s

    post = [
        ext_info(("server-sig-algs", "ssh-ed25519,rsa-sha2-256,rsa-sha2-512"),
                 ("publickey-hostbound@openssh.com", "0")),
        u8(SERVICE_ACCEPT) + string("ssh-userauth"),
        u8(USERAUTH_BANNER) + string("Authorized use only\r\n\x1b[31m") +
        string(""),
        ignore(b"\0" * 32),
        debug("debug message"),
        global_request("keepalive@openssh.com", 1),
        u8(UNIMPLEMENTED) + u32(5),
        u8(200) + b"unknown",
        u8(USERAUTH_FAILURE) + string("publickey,password") + u8(0),
        disconnect(11, "bye"),
    ]
    seed("kex-curve25519-chacha", 0, 0, conversation(after=post).data)
    seed("kex-curve25519-chacha-chunked", 0, 0x37,
         conversation(after=post).data)
    seed("kex-curve25519-chacha-bytes", 0, 0x10,
         conversation(after=post[:2]).data)
    seed("kex-bad-signature", 0, 0,
         conversation(corrupt_sig=True).data)

    variants = [
        ("kex-ecdh-aes256gcm", dict(kex="ecdh-sha2-nistp256",
                                    cipher="aes256-gcm@openssh.com")),
        ("kex-dh14-aes128ctr-etm", dict(kex="diffie-hellman-group14-sha256",
                                        cipher="aes128-ctr",
                                        mac="hmac-sha2-256-etm@openssh.com")),
        ("kex-curve-aes256ctr-sha512", dict(cipher="aes256-ctr",
                                            mac="hmac-sha2-512")),
        ("kex-libssh-aes128gcm", dict(kex="curve25519-sha256@libssh.org",
                                      cipher="aes128-gcm@openssh.com")),
    ]
    for name, kw in variants:
        ki = server_kexinit(**kw)
        seed(name, 0, 0, conversation(kexinit=ki, after=post[:3]).data)

    # Host keys that verify but do not match known_hosts.
    seed("kex-hostkey-changed", 0, 0,
         conversation(hostkey=ED25519_OTHER).data)
    seed("kex-hostkey-revoked", 0, 0,
         conversation(hostkey=ED25519_REVOKED).data)
    ki = server_kexinit(hostkey="ecdsa-sha2-nistp256")
    seed("kex-ecdsa-unknown", 0, 0,
         conversation(kexinit=ki, hostkey=ECDSA).data)
    ki = server_kexinit(hostkey="rsa-sha2-512,rsa-sha2-256")
    seed("kex-rsa-unknown", 0, 0,
         conversation(kexinit=ki, hostkey=RSA).data)

    # Without strict KEX, IGNORE and DEBUG may come first.
    ki = server_kexinit(strict=False)
    s = Server(version)
    s.raw(b"Welcome\r\nto the server\r\n" + version + b"\r\n")
    s.send(ignore(b"x" * 10))
    s.send(debug("before kexinit"))
    s.send(ki)
    s.kex(client, ki, ED25519, True)
    s.send(post[0])
    seed("kex-nonstrict-banner", 0, 0x24, s.data)

    # Rekeying, initiated by the server, inside the encrypted transport.
    s = conversation(after=post[:2])
    ki = server_kexinit(kex="ecdh-sha2-nistp256",
                        cipher="aes128-ctr", mac="hmac-sha2-256")
    s.send(ki)
    s.kex(client, ki, ED25519, False)
    s.send(ignore(b"after rekey"))
    s.send(disconnect(2, "done"))
    seed("kex-rekey", 0, 0, s.data)

    # A wrong guess: the packet after KEXINIT is to be skipped.
    ki = server_kexinit(kex="ecdh-sha2-nistp256,curve25519-sha256",
                        follows=1, strict=False)
    s = Server(version)
    s.raw(version + b"\r\n")
    s.send(ki)
    s.send(u8(KEX_REPLY) + string("guessed wrong"))
    s.kex(client, ki, ED25519, True)
    seed("kex-wrong-guess", 0, 0, s.data)

    # The same, where the guess differs from the negotiated algorithm
    # only by a suffix.  RFC 4253 7: the guessed packet must be ignored
    # and the exchange completes.
    ki = server_kexinit(kex="curve25519-sha256@libssh.org,curve25519-sha256",
                        follows=1, strict=False)
    s = Server(version)
    s.raw(version + b"\r\n")
    s.send(ki)
    s.send(u8(KEX_REPLY) + string("guessed wrong"))
    s.kex(client, ki, ED25519, True)
    seed("regress-kex-guess-prefix", 0, 0, s.data)

    # The legacy algorithms, allowed by F_LEGACY.
    legacy = Client(legacy=True)
    ki = server_kexinit(kex="diffie-hellman-group14-sha1",
                        cipher="aes128-ctr", mac="hmac-sha1", strict=False)
    s = Server(version)
    s.raw(version + b"\r\n")
    s.send(ki)
    s.kex(legacy, ki, ED25519, True)
    s.send(post[1])
    s.send(post[2])
    seed("kex-legacy-sha1", F_LEGACY, 0, s.data)
    seed("kex-legacy-refused", 0, 0, s.data)
    ki = server_kexinit(hostkey="ssh-rsa", cipher="aes256-ctr",
                        mac="hmac-sha1-etm@openssh.com")
    s = Server(version)
    s.raw(version + b"\r\n")
    s.send(ki)
    s.kex(legacy, ki, RSA, True)
    seed("kex-legacy-ssh-rsa", F_LEGACY, 0, s.data)

    # Broken transports.
    hello = version + b"\r\n"
    s = Server(version)
    s.raw(hello)
    s.send(ignore(b""))
    s.send(sshd_kexinit)
    seed("strict-violation", 0, 0, s.data)
    seed("oversize-length", 0, 0, hello + u32(0x00100000) + b"\x04" +
         bytes(60))
    seed("zero-length", 0, 0, hello + u32(0) + bytes(8))
    s = Server(version)
    s.raw(hello)
    s.send(ignore(b"abc"), padlen=3)
    seed("bad-padding", 0, 0, s.data)
    seed("padding-too-long", 0, 0, hello + u32(12) + u8(11) + bytes(11))
    seed("misaligned-length", 0, 0, hello + u32(13) + u8(4) + bytes(12))
    s = Server(version)
    s.raw(hello)
    s.send(disconnect(2, "Too many authentication failures\x07\n"))
    seed("disconnect", 0, 0, s.data)
    s = Server(version)
    s.raw(hello)
    s.send(server_kexinit(comp="zlib@openssh.com"))
    seed("kex-compression-only", 0, 0, s.data)
    s = Server(version)
    s.raw(hello)
    s.send(server_kexinit(cipher="3des-cbc,aes128-cbc"))
    seed("kex-no-cipher", 0, 0, s.data)
    s = Server(version)
    s.raw(hello)
    s.send(server_kexinit(kex="diffie-hellman-group14-sha1"))
    seed("kex-only-sha1", 0, 0, s.data)
    s = Server(version)
    s.raw(hello)
    s.send(sshd_kexinit)
    s.send(u8(KEX_REPLY) + string(ED25519.blob) + string(bytes(32)) +
           string(b"sig"))
    seed("kex-reply-low-order", 0, 0, s.data)
    seed("version-ssh1", 0, 0, b"SSH-1.5-OpenSSH_3.0\r\n")
    seed("version-199", 0, 0, b"SSH-1.99-Cisco-1.25\r\n" + u32(12) +
         u8(10) + u8(IGNORE) + bytes(10))
    seed("version-long", 0, 0, b"SSH-2.0-" + b"x" * 300 + b"\r\n")
    seed("banner-overlong", 0, 0, b"y" * 1100)
    seed("banner-many-lines", 0, 0x3b, b"line\n" * 70 + hello)


def established_seeds():
    # Channel traffic on the open channel 0 and the pending channel 1.
    s = Server()
    for m in [
        confirmation(1),
        chan(WINDOW_ADJUST, 0, u32(0xffffffff)),
        chan(DATA, 0, string(b"A" * 100)),
        chan(EXTENDED_DATA, 0, u32(1) + string(b"E" * 50)),
        chan(EXTENDED_DATA, 0, u32(7) + string(b"?" * 20)),
        chan(DATA, 1, string(b"B" * 10)),
        chan_request(0, "exit-status", 1, u32(42)),
        chan_request(0, "exit-signal", 0, string("KILL") + u8(1) +
                     string("killed\n") + string("")),
        chan_request(0, "keepalive@openssh.com", 1),
        chan(EOF, 0),
        chan(CLOSE, 0),
        chan(CLOSE, 1),
    ]:
        s.send(m)
    flags = F_ESTABLISHED | F_CHAN_PENDING | F_READ | F_WRITE
    seed("chan-session", flags, 0, s.data)
    seed("chan-session-chunked", flags, 0x26, s.data)

    s = Server()
    s.send(chan(OPEN_FAILURE, 1, u32(2) + string("administratively "
                                                 "prohibited\x1b]") +
                string("")))
    s.send(chan(CHANNEL_FAILURE, 0))
    seed("chan-open-failure", F_ESTABLISHED | F_CHAN_PENDING |
         F_REQ_PENDING, 0, s.data)

    # OPEN_FAILURE for a channel already open is a protocol error; it
    # must not turn the exec reply that follows into a refusal.
    s = Server()
    s.send(chan(OPEN_FAILURE, 0, u32(2) + string("late") + string("")))
    s.send(chan(CHANNEL_SUCCESS, 0))
    seed("regress-open-failure-when-open", F_ESTABLISHED | F_REQ_PENDING, 0,
         s.data)

    s = Server()
    s.send(chan(CHANNEL_SUCCESS, 0))
    s.send(chan(DATA, 0, string(b"x" * 3000)))
    s.send(chan(DATA, 0, string(b"y" * 3000)))
    s.send(chan_request(0, "exit-signal", 0, string("SEGV") + u8(0) +
                        string("") + string("")))
    s.send(chan(CLOSE, 0))
    seed("chan-exec-success", F_ESTABLISHED | F_REQ_PENDING | F_READ, 0,
         s.data)

    s = Server()
    s.send(global_request("hostkeys-00@openssh.com", 1))
    s.send(u8(REQUEST_SUCCESS))
    s.send(u8(REQUEST_FAILURE))
    s.send(ext_info(("server-sig-algs", "rsa-sha2-512")))
    s.send(ignore(b""))
    s.send(u8(UNIMPLEMENTED) + u32(9))
    s.send(u8(SERVICE_ACCEPT) + string("ssh-userauth"))
    s.send(u8(150) + b"future")
    s.send(u8(CHANNEL_OPEN) + string("x11") + u32(0) + u32(1) + u32(1))
    seed("transport-misc", F_ESTABLISHED, 0, s.data)

    s = Server()
    s.send(chan(DATA, 0, string(b"z" * 64)))
    s.send(chan(DATA, 0, u32(0xffffff00)))
    seed("chan-data-overrun", F_ESTABLISHED, 0, s.data)

    # User authentication, then the session.
    s = Server()
    s.send(u8(USERAUTH_BANNER) + string("Welcome\n") + string("en"))
    s.send(info_request("Verification", "Answer the questions",
                        [("Password: ", 0), ("Code: ", 1)]))
    s.send(u8(USERAUTH_FAILURE) + string("keyboard-interactive,password") +
           u8(1))
    s.mark()
    s.send(info_request("", "", []))
    s.send(u8(USERAUTH_SUCCESS))
    after_auth(s)
    seed("auth-kbdint", F_ESTABLISHED | F_AUTH | (M_KBDINT << 3) | F_READ |
         F_WRITE, chunking_for(s, 5), s.data)
    seed("auth-kbdint-verbose", F_ESTABLISHED | F_AUTH | (M_KBDINT << 3) |
         F_VERBOSE, chunking_for(s, 3), s.data)

    s = Server()
    s.send(u8(USERAUTH_60) + string("Password expired") + string(""))
    s.mark()
    s.send(u8(USERAUTH_FAILURE) + string("password") + u8(0))
    s.send(u8(USERAUTH_SUCCESS))
    after_auth(s)
    seed("auth-password", F_ESTABLISHED | F_AUTH | (M_PASSWORD << 3),
         chunking_for(s, 4), s.data)

    s = Server()
    s.send(u8(USERAUTH_60) + string("ssh-ed25519") + string(ED25519.blob))
    s.send(u8(USERAUTH_SUCCESS))
    s.mark()
    s.send(chan(OPEN_FAILURE, 0, u32(1) + string("no sessions") +
                string("")))
    seed("auth-pubkey-open-refused", F_ESTABLISHED | F_AUTH |
         (M_PUBKEY << 3), chunking_for(s, 4), s.data)

    # A rekey in the established transport, then encrypted channel data.
    client = Client()
    ki = server_kexinit()
    s = Server(EST_VERSION, session_id=EST_SESSION_ID)
    s.send(chan(DATA, 0, string(b"before")))
    s.send(ki)
    s.kex(client, ki, ED25519, False)
    s.send(chan(DATA, 0, string(b"after")))
    s.send(chan_request(0, "exit-status", 0, u32(0)))
    s.send(chan(CLOSE, 0))
    seed("est-rekey-chacha", F_ESTABLISHED | F_READ, 0, s.data)

    ki = server_kexinit(kex="diffie-hellman-group14-sha256",
                        cipher="aes256-ctr", mac="hmac-sha2-512-etm@openssh.com")
    s = Server(EST_VERSION, session_id=EST_SESSION_ID)
    s.send(ki)
    s.kex(client, ki, ED25519, False)
    s.send(chan(WINDOW_ADJUST, 0, u32(100)))
    s.send(chan(EOF, 0))
    seed("est-rekey-dh-ctr", F_ESTABLISHED | F_WRITE, 0x3c, s.data)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--capture":
        os.makedirs(OUT, exist_ok=True)
        capture(int(sys.argv[2]))
    elif len(sys.argv) != 1:
        raise SystemExit("usage: gen_fuzz_ssh.py [--capture PORT]")
    handshake_seeds()
    established_seeds()


if __name__ == "__main__":
    main()
