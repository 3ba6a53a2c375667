#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One end of wg_interop_test.sh: a WireGuard peer made of a Noise_IKpsk2
handshake in Python and a tapsec WireGuard socket (TAPSEC_PROTO_WIREGUARD)
for the transport data, or, with "app", an ordinary UDP socket (the
application behind kernel WireGuard's interface).

  wg_peer.py probe               can this kernel make a WireGuard socket?
  wg_peer.py pubkey PRIVATE      the public key of a private key (base64)
  wg_peer.py initiate [...]      send the handshake initiation, then data
  wg_peer.py respond [...]       answer an initiation, then data
  wg_peer.py connect [...]       tapsec-handshaked initiates (connect() in
                                 daemon mode), then data
  wg_peer.py accept [...]        tapsec-handshaked responds (listen() and
                                 accept() in daemon mode), then data
  wg_peer.py app [...]           a plain UDP socket: send and expect data

The handshake is WireGuard's (the WireGuard paper, section 5.4, and
wireguard.com/protocol): Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, messages
of type 1 (initiation, 148 bytes) and 2 (response, 92 bytes), mac1
checked and sent, no cookies (mac2 zero).  It runs on a plain UDP socket
on --bind; initiate then closes that socket and opens the tapsec socket on
the same port, connected to the peer, with the keypair the handshake
derived.  respond does the same before its response leaves: the response
goes out from --bind through a raw socket, so that the tapsec socket is
there when the initiator's first message (its staged data, or a
keepalive) arrives right after it.

Then the data: each datagram of --send (sizes, comma separated) is sent,
and those of --expect are waited for, in the order --order says (by
default the initiator sends first: WireGuard's responder may not send
before the initiator's first data message confirmed the keys).  Datagram
K of a run carries pattern(K, size); a receiver checks each one's size and
content, in any order.

What a run prints, one "name=value" per line: handshake=ok (or an
"error=" line saying what failed), local_index=, peer_index=, sent=,
got= (datagrams received, extras included), ok= (those matching one
expected), src=ADDR,PORT (app: each sender), empty_wakeups=; for a
tapsec socket then tx_counter= (the next to send) and rx_counter= (one
past the highest accepted, 0 before any), protocol= and every counter of struct tapsec_counters;
with --wire, what a packet socket saw of the outer flow (wire_out=,
wire_out_ok=, wire_in=, wire_keepalives=, and a line per message).
"""

import argparse
import base64
import errno
import hashlib
import hmac
import os
import re
import select
import socket
import struct
import sys
import time

IPPROTO_TAPSEC = 258
SOL_TAPSEC = 290
TAPSEC_PROTOCOL = 1
TAPSEC_SOCK_INFO = 2
TAPSEC_TX = 3
TAPSEC_RX = 4
TAPSEC_WG_INNER = 44
TAPSEC_HANDSHAKE = 7
TAPSEC_HANDSHAKE_TIMEOUT = 8
TAPSEC_SERVER_NAME = 9
TAPSEC_IDENTITY = 11
TAPSEC_TRUST = 13
TAPSEC_PSK_IDENTITY = 14
TAPSEC_PEER_IDENTITY = 19
TAPSEC_HANDSHAKE_DAEMON = 1
TAPSEC_PROTO_WIREGUARD = 4
SO_RCVBUFFORCE = 33
ETH_P_ALL = 3
PACKET_OUTGOING = 4

# struct tapsec_wg_key: index, flags, counter, key[32]
WG_KEY = struct.Struct("=IIQ32s")
# struct tapsec_wg_inner: family, local_port, peer_port, flags,
# local_addr[16], peer_addr[16]
WG_INNER = struct.Struct("=HHHH16s16s")
# struct tapsec_sock_info up to its counters
SOCK_INFO = struct.Struct("=IIIHHHHI")

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "../../uapi/linux/tapsec.h")

# WireGuard's constants (the paper, 5.4).
CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
MSG_INITIATION = 1
MSG_RESPONSE = 2
MSG_COOKIE = 3
MSG_DATA = 4
INITIATION_LEN = 148
RESPONSE_LEN = 92
# TAI64N: the TAI64 label of 1970 (2^62) plus the 10 s TAI was ahead then.
TAI64_BASE = 0x400000000000000a


def fail(msg):
    print("error=" + msg, flush=True)
    sys.exit(1)


def errname(e):
    name = errno.errorcode.get(e.errno, str(e.errno))
    return "EOPNOTSUPP" if name == "ENOTSUP" else name


def crypto():
    """X25519 and ChaCha20-Poly1305 of Debian's python3-cryptography,
    imported on first use: the application never needs them, and python
    -S leaves dist-packages off sys.path."""
    if "/usr/lib/python3/dist-packages" not in sys.path:
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from cryptography.hazmat.primitives.asymmetric import x25519
        from cryptography.hazmat.primitives.ciphers.aead import \
            ChaCha20Poly1305
        from cryptography.hazmat.primitives import serialization
    except ImportError as e:
        fail("python3-cryptography: %s" % e)
    return x25519, ChaCha20Poly1305, serialization


def preload():
    """What the Python zygote (selftests/lib/pyzygote.py) imports once."""
    crypto()


def counter_names():
    """The fields of struct tapsec_counters, in order, from the uapi
    header (they grow at the end; reading them here keeps up)."""
    with open(HEADER) as f:
        text = f.read()
    m = re.search(r"struct tapsec_counters \{(.*?)\};", text, re.S)
    if not m:
        fail("no struct tapsec_counters in " + HEADER)
    return re.findall(r"__u64\s+(\w+);", m.group(1))


def pattern(k, size):
    """Datagram K's payload: bytes that differ from one datagram to the
    next."""
    return bytes((k * 37 + j * 13 + 5) & 0xff for j in range(size))


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def key32(text, what):
    """A 32-byte key given in base64, as wg prints them."""
    try:
        k = base64.b64decode(text, validate=True)
    except ValueError:
        k = b""
    if len(k) != 32:
        fail("%s: not a base64 32-byte key: %s" % (what, text))
    return k


def inet_sum(data):
    """RFC 1071 one's complement sum of DATA, folded to 16 bits."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def pseudo_header(family, src, dst, length):
    """The UDP checksum's pseudo-header (addresses as packed bytes)."""
    if family == socket.AF_INET:
        return src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, length)
    return src + dst + struct.pack("!I3xB", length, socket.IPPROTO_UDP)


# ------------------------------------------------------------- Noise --

def blake2s(*parts):
    """HASH: BLAKE2s-256 of the parts one after another."""
    h = hashlib.blake2s(digest_size=32)
    for p in parts:
        h.update(p)
    return h.digest()


def mac(key, data):
    """MAC: keyed BLAKE2s-128."""
    return hashlib.blake2s(data, digest_size=16, key=key).digest()


def hmac_b2s(key, data):
    """HMAC with BLAKE2s-256 (RFC 2104, its 64-byte block)."""
    return hmac.new(key, data, hashlib.blake2s).digest()


def kdf(key, data, n):
    """KDF_n: HKDF's extract and expand with HMAC-BLAKE2s, n outputs."""
    prk = hmac_b2s(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac_b2s(prk, prev + bytes([i]))
        out.append(prev)
    return out


def aead_nonce(counter):
    """ChaCha20-Poly1305's nonce of WireGuard: 4 zero bytes, then the
    counter little-endian."""
    return b"\0" * 4 + struct.pack("<Q", counter)


def tai64n():
    """The timestamp of an initiation: TAI64N, 12 bytes big-endian."""
    ns = time.time_ns()
    return struct.pack(">QI", TAI64_BASE + ns // 10**9, ns % 10**9)


class Noise:
    """One handshake of Noise_IKpsk2 as WireGuard runs it, either side:
    the chaining key C, the hash H, the ephemeral key and, at the end,
    the transport keys (send, receive)."""

    def __init__(self, private, peer_public, psk):
        self.x25519, self.aead, ser = crypto()
        self.static = self.x25519.X25519PrivateKey.from_private_bytes(private)
        self.public = self.static.public_key().public_bytes(
            ser.Encoding.Raw, ser.PublicFormat.Raw)
        self.raw = (ser.Encoding.Raw, ser.PublicFormat.Raw)
        self.peer_public = peer_public
        self.psk = psk or bytes(32)
        self.send_key = self.recv_key = None

    def dh(self, private, public):
        return private.exchange(
            self.x25519.X25519PublicKey.from_public_bytes(public))

    def seal(self, key, plain, ad):
        return self.aead(key).encrypt(aead_nonce(0), plain, ad)

    def open(self, key, sealed, ad):
        """The plaintext, or None when the tag does not verify."""
        try:
            return self.aead(key).decrypt(aead_nonce(0), sealed, ad)
        except Exception:	# cryptography's InvalidTag
            return None

    def start(self, responder_public):
        """C and H before the first message: the construction, the
        identifier and the responder's static public key."""
        self.c = blake2s(CONSTRUCTION)
        self.h = blake2s(blake2s(self.c, IDENTIFIER), responder_public)

    def ephemeral(self):
        self.eph = self.x25519.X25519PrivateKey.generate()
        pub = self.eph.public_key().public_bytes(*self.raw)
        self.c = kdf(self.c, pub, 1)[0]
        self.h = blake2s(self.h, pub)
        return pub

    def initiation(self, sender):
        """Message 1, from sender index SENDER."""
        self.sender = sender
        self.start(self.peer_public)
        msg = struct.pack("<II", MSG_INITIATION, sender) + self.ephemeral()
        self.c, k = kdf(self.c, self.dh(self.eph, self.peer_public), 2)
        enc_static = self.seal(k, self.public, self.h)
        self.h = blake2s(self.h, enc_static)
        self.c, k = kdf(self.c, self.dh(self.static, self.peer_public), 2)
        enc_time = self.seal(k, tai64n(), self.h)
        self.h = blake2s(self.h, enc_time)
        msg += enc_static + enc_time
        msg += mac(blake2s(LABEL_MAC1, self.peer_public), msg)
        return msg + bytes(16)

    def check_mac1(self, msg):
        n = len(msg) - 32
        return hmac.compare_digest(
            msg[n:n + 16], mac(blake2s(LABEL_MAC1, self.public), msg[:n]))

    def consume_response(self, msg):
        """Message 2, answering our initiation: None, or why not."""
        if len(msg) != RESPONSE_LEN:
            return "a response of %d bytes, not %d" % (len(msg), RESPONSE_LEN)
        mtype, sender, receiver = struct.unpack_from("<III", msg)
        if mtype != MSG_RESPONSE:
            return "a message of type %#x, not a response" % mtype
        if receiver != self.sender:
            return "a response to index %#x, not ours (%#x)" % (
                receiver, self.sender)
        if not self.check_mac1(msg):
            return "a response whose mac1 is wrong"
        eph_r = msg[12:44]
        self.c = kdf(self.c, eph_r, 1)[0]
        self.h = blake2s(self.h, eph_r)
        self.c = kdf(self.c, self.dh(self.eph, eph_r), 1)[0]
        self.c = kdf(self.c, self.dh(self.static, eph_r), 1)[0]
        self.c, tau, k = kdf(self.c, self.psk, 3)
        self.h = blake2s(self.h, tau)
        if self.open(k, msg[44:60], self.h) != b"":
            return ("the response does not authenticate (its empty payload's"
                    " tag is wrong: another preshared key, or keys?)")
        self.h = blake2s(self.h, msg[44:60])
        self.peer_index = sender
        # The initiator sends with the first key, receives with the second.
        self.send_key, self.recv_key = kdf(self.c, b"", 2)
        return None

    def consume_initiation(self, msg):
        """Message 1, to us: None, or why it is refused."""
        if len(msg) != INITIATION_LEN:
            return "an initiation of %d bytes, not %d" % (
                len(msg), INITIATION_LEN)
        if not self.check_mac1(msg):
            return "an initiation whose mac1 is wrong (not for our key?)"
        self.peer_index = struct.unpack_from("<I", msg, 4)[0]
        self.start(self.public)
        eph_i = msg[8:40]
        self.c = kdf(self.c, eph_i, 1)[0]
        self.h = blake2s(self.h, eph_i)
        self.c, k = kdf(self.c, self.dh(self.static, eph_i), 2)
        static_i = self.open(k, msg[40:88], self.h)
        if static_i is None:
            return "an initiation whose static key does not decrypt"
        self.h = blake2s(self.h, msg[40:88])
        if static_i != self.peer_public:
            return "an initiation from static key %s, not --peer-key" % (
                base64.b64encode(static_i).decode())
        self.c, k = kdf(self.c, self.dh(self.static, static_i), 2)
        stamp = self.open(k, msg[88:116], self.h)
        if stamp is None or len(stamp) != 12:
            return "an initiation whose timestamp does not decrypt"
        self.h = blake2s(self.h, msg[88:116])
        self.eph_i = eph_i
        return None

    def response(self, sender):
        """Message 2, from sender index SENDER, answering the initiation
        consumed; the transport keys are derived."""
        msg = struct.pack("<III", MSG_RESPONSE, sender, self.peer_index)
        msg += self.ephemeral()
        self.c = kdf(self.c, self.dh(self.eph, self.eph_i), 1)[0]
        self.c = kdf(self.c, self.dh(self.eph, self.peer_public), 1)[0]
        self.c, tau, k = kdf(self.c, self.psk, 3)
        self.h = blake2s(self.h, tau)
        empty = self.seal(k, b"", self.h)
        self.h = blake2s(self.h, empty)
        msg += empty
        msg += mac(blake2s(LABEL_MAC1, self.peer_public), msg)
        self.sender = sender
        # The responder receives with the first key, sends with the second.
        self.recv_key, self.send_key = kdf(self.c, b"", 2)
        return msg + bytes(16)


def new_index():
    return struct.unpack("<I", os.urandom(4))[0]


# ----------------------------------------------------- the wire check --

class Wire:
    """The outer flow as a packet socket of this namespace sees it, opened
    before the data moves: our messages going out, each decrypted with the
    send key and checked (the inner IP and UDP headers with their
    checksums, zero padding to 16 bytes, consecutive counters from 0: what
    kernel WireGuard does not check, as it takes the inner packet's
    checksums as verified), and the peer's coming in, decrypted with the
    receive key and described.  IP fragments are reassembled."""

    def __init__(self, args, noise, inner):
        self.args, self.noise, self.inner = args, noise, inner
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                  socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        self.frags = {}
        self.out = self.out_ok = self.inn = self.keepalives = 0
        self.next_counter = 0
        self.seen = set()
        self.lines = []

    def drain(self):
        """Read and decode what the packet socket holds."""
        while True:
            try:
                pkt, addr = self.sock.recvfrom(65600, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            outgoing = addr[2] == PACKET_OUTGOING
            if addr[2] not in (0, PACKET_OUTGOING) or addr[0] == "lo":
                continue
            udp = self.udp_of(pkt)
            if udp is None or len(udp[2]) < 24:
                continue	# not a WireGuard message in UDP
            sport, dport = struct.unpack_from("!HH", udp[2])
            mine = (self.args.bind, self.args.port)
            if outgoing and (sport, dport) == mine:
                self.outgoing(udp[2][8:])
            elif not outgoing and (dport, sport) == mine:
                self.incoming(udp[2][8:])

    def udp_of(self, pkt):
        """(family, (src, dst), UDP datagram) of an IP packet, reassembled
        from its fragments; None for anything else or a fragment that
        does not complete one."""
        ver = pkt[0] >> 4
        if ver == 4:
            ihl = (pkt[0] & 15) * 4
            total, ident, frag = struct.unpack_from("!HHH", pkt, 2)
            if pkt[9] != socket.IPPROTO_UDP:
                return None
            addrs = (pkt[12:16], pkt[16:20])
            body = pkt[ihl:total]
            if frag & 0x3fff:
                body = self.reassemble((4,) + addrs + (ident,),
                                       (frag & 0x1fff) * 8,
                                       bool(frag & 0x2000), body)
            return body and (socket.AF_INET, addrs, body)
        if ver == 6:
            plen = struct.unpack_from("!H", pkt, 4)[0]
            nh, addrs = pkt[6], (pkt[8:24], pkt[24:40])
            body = pkt[40:40 + plen]
            if nh == 44:	# a fragment header
                off, ident = struct.unpack_from("!HI", body, 2)
                nh = body[0]
                body = self.reassemble((6,) + addrs + (ident,), off & ~7,
                                       bool(off & 1), body[8:])
            if nh != socket.IPPROTO_UDP or not body:
                return None
            return socket.AF_INET6, addrs, body
        return None

    def reassemble(self, key, off, more, data):
        parts = self.frags.setdefault(key, {})
        parts[off] = (data, more)
        whole, at = b"", 0
        while at in parts:
            data, more = parts[at]
            whole += data
            at += len(data)
            if not more:
                del self.frags[key]
                return whole
        return None

    def note(self, text):
        self.lines.append(text)

    def outgoing(self, msg):
        """One of our messages: a type-4 message under the send key."""
        if msg[0] != MSG_DATA:
            return	# the handshake's
        n = self.out
        self.out += 1
        bad = []
        mtype, index, counter = struct.unpack_from("<IIQ", msg)
        if mtype != MSG_DATA:
            bad.append("type field %#010x (reserved bytes not zero)" % mtype)
        if index != self.noise.peer_index:
            bad.append("receiver index %#x, not the peer's %#x"
                       % (index, self.noise.peer_index))
        if counter != self.next_counter:
            bad.append("counter %d, expected %d"
                       % (counter, self.next_counter))
        self.next_counter = counter + 1
        line = "wire_out %d: counter=%d len=%d" % (n, counter, len(msg))
        try:
            plain = self.noise.aead(self.noise.send_key).decrypt(
                aead_nonce(counter), msg[16:], None)
        except Exception:
            plain = None
        if plain is None:
            bad.append("the tag does not verify under the send key")
        else:
            line += " " + self.check_inner(plain, bad)
        self.note(line)
        for b in bad:
            self.note("wire_out %d: wrong: %s" % (n, b))
        self.out_ok += not bad

    def check_inner(self, plain, bad):
        """Our inner packet: IPv4 (20 bytes, DF, TTL 64, its header
        checksum) or IPv6 (hop limit 64), UDP from the inner local address
        and port to the peer's, its length and checksum, a payload of
        --send not seen yet, then zeros to the next 16 bytes."""
        fam, lport, pport, laddr, paddr = self.inner
        if len(plain) < (20 if fam == socket.AF_INET else 40) + 8:
            bad.append("%d bytes of plaintext: no inner IP and UDP headers"
                       % len(plain))
            return "plain=%d" % len(plain)
        if len(plain) % 16:
            bad.append("%d bytes of plaintext: not padded to 16" % len(plain))
        if fam == socket.AF_INET:
            if plain[0] != 0x45:
                bad.append("IPv4 version/IHL byte %#x" % plain[0])
            total, _, frag, ttl, proto = struct.unpack_from("!HHHBB", plain, 2)
            if frag != 0x4000:
                bad.append("IPv4 flags/fragment %#06x, not DF" % frag)
            if ttl != 64 or proto != socket.IPPROTO_UDP:
                bad.append("IPv4 TTL %d, protocol %d" % (ttl, proto))
            if inet_sum(plain[:20]) != 0xffff:
                bad.append("IPv4 header checksum wrong")
            if (plain[12:16], plain[16:20]) != (laddr[:4], paddr[:4]):
                bad.append("IPv4 addresses %s > %s" % (
                    socket.inet_ntop(fam, plain[12:16]),
                    socket.inet_ntop(fam, plain[16:20])))
            hl, src, dst = 20, plain[12:16], plain[16:20]
        else:
            if plain[0] >> 4 != 6:
                bad.append("IP version %d, not 6" % (plain[0] >> 4))
            plen, nh, hop = struct.unpack_from("!HBB", plain, 4)
            total = 40 + plen
            if nh != socket.IPPROTO_UDP or hop != 64:
                bad.append("IPv6 next header %d, hop limit %d" % (nh, hop))
            if (plain[8:24], plain[24:40]) != (laddr, paddr):
                bad.append("IPv6 addresses %s > %s" % (
                    socket.inet_ntop(fam, plain[8:24]),
                    socket.inet_ntop(fam, plain[24:40])))
            hl, src, dst = 40, plain[8:24], plain[24:40]
        if total > len(plain):
            bad.append("IP length %d of %d bytes" % (total, len(plain)))
            return "ip_len=%d" % total
        if len(plain) != (total + 15) // 16 * 16:
            bad.append("%d bytes of padding after %d" % (
                len(plain) - total, total))
        if any(plain[total:]):
            bad.append("padding not zero: %s" % plain[total:].hex())
        udp = plain[hl:total]
        sport, dport, ulen, csum = struct.unpack_from("!HHHH", udp)
        if (sport, dport) != (lport, pport):
            bad.append("UDP ports %d > %d" % (sport, dport))
        if ulen != len(udp):
            bad.append("UDP length %d of %d bytes" % (ulen, len(udp)))
        if csum == 0 or inet_sum(pseudo_header(fam, src, dst, len(udp)) +
                                 udp) != 0xffff:
            bad.append("UDP checksum %#06x wrong" % csum)
        payload = udp[8:]
        for k, size in enumerate(self.args.send):
            if k not in self.seen and payload == pattern(k, size):
                self.seen.add(k)
                break
        else:
            bad.append("a payload of %d bytes that is no datagram of --send"
                       % len(payload))
        return "inner=%d>%d ip_len=%d pad=%d payload=%d csum=%#06x" % (
            sport, dport, total, len(plain) - total, len(payload), csum)

    def incoming(self, msg):
        """One of the peer's messages: what it carries, decrypted."""
        n = self.inn
        self.inn += 1
        if msg[0] != MSG_DATA or len(msg) < 32:
            self.note("wire_in %d: type %d, %d bytes" % (n, msg[0], len(msg)))
            return
        _, index, counter = struct.unpack_from("<IIQ", msg)
        line = "wire_in %d: index=%#x counter=%d len=%d" % (
            n, index, counter, len(msg))
        try:
            plain = self.noise.aead(self.noise.recv_key).decrypt(
                aead_nonce(counter), msg[16:], None)
        except Exception:
            self.note(line + " (does not decrypt under the receive key)")
            return
        if not plain:
            self.keepalives += 1
            self.note(line + " keepalive")
            return
        line += " plain=%d" % len(plain)
        if plain[0] >> 4 == 4:
            hl = (plain[0] & 15) * 4
            frag = struct.unpack_from("!H", plain, 6)[0]
            line += " ipv4 %s>%s proto=%d frag=%#06x" % (
                socket.inet_ntop(socket.AF_INET, plain[12:16]),
                socket.inet_ntop(socket.AF_INET, plain[16:20]), plain[9],
                frag)
            # Only a first fragment has the UDP header.
            nh = plain[9] if not frag & 0x1fff else None
        else:
            hl = 40
            line += " ipv6 %s>%s nh=%d" % (
                socket.inet_ntop(socket.AF_INET6, plain[8:24]),
                socket.inet_ntop(socket.AF_INET6, plain[24:40]), plain[6])
            nh = plain[6]
        if nh == socket.IPPROTO_UDP and len(plain) >= hl + 8:
            line += " udp=%d>%d ulen=%d" % struct.unpack_from(
                "!HHH", plain, hl)
        self.note(line)

    def report(self):
        self.drain()
        for line in self.lines:
            print(line)
        print("wire_out=%d" % self.out)
        print("wire_out_ok=%d" % self.out_ok)
        print("wire_in=%d" % self.inn)
        print("wire_keepalives=%d" % self.keepalives)


# ------------------------------------------------------------ sockets --

def setopt(sock, opt, value, what):
    try:
        sock.setsockopt(SOL_TAPSEC, opt, value)
    except OSError as e:
        fail("%s: %s" % (what, errname(e)))


def parse_inner(spec):
    """LOCAL,LPORT,PEER,PPORT: (family, lport, pport, local, peer), the
    addresses packed to 16 bytes."""
    try:
        local, lport, peer, pport = spec.split(",")
        fam = family_of(local)
        if family_of(peer) != fam:
            raise ValueError
        la = socket.inet_pton(fam, local).ljust(16, b"\0")
        pa = socket.inet_pton(fam, peer).ljust(16, b"\0")
        return fam, int(lport), int(pport), la, pa
    except (ValueError, OSError):
        fail("bad --inner " + spec)


def tapsec_socket(args, noise, peer):
    """The WireGuard socket on :args.bind, connected to PEER, with the
    inner addresses of --inner and the handshake's keypair."""
    fam = family_of(peer[0])
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_TAPSEC)
    except OSError as e:
        fail("socket(IPPROTO_TAPSEC): " + errname(e))
    setopt(s, TAPSEC_PROTOCOL, struct.pack("i", TAPSEC_PROTO_WIREGUARD),
           "TAPSEC_PROTOCOL WIREGUARD")
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    try:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.bind))
        s.connect(peer)
    except OSError as e:
        fail("bind/connect of the tapsec socket: " + errname(e))
    inner = parse_inner(args.inner)
    setopt(s, TAPSEC_WG_INNER, WG_INNER.pack(inner[0], inner[1], inner[2], 0,
                                             inner[3], inner[4]),
           "TAPSEC_WG_INNER")
    setopt(s, TAPSEC_TX, WG_KEY.pack(noise.peer_index, 0, 0, noise.send_key),
           "TAPSEC_TX")
    setopt(s, TAPSEC_RX, WG_KEY.pack(noise.sender, 0, 0, noise.recv_key),
           "TAPSEC_RX")
    return s, inner


def handshake_socket(args):
    fam = family_of(args.peer)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.bind))
    except OSError as e:
        fail("bind of the handshake socket: " + errname(e))
    return s


def same_endpoint(a, b):
    return (socket.inet_pton(family_of(a[0]), a[0]), a[1]) == \
        (socket.inet_pton(family_of(b[0]), b[0]), b[1])


def wait_message(s, peer, deadline, what, timeout):
    """The next datagram from PEER (others are reported and ignored)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            fail("timeout: no %s from %s port %d in %g s"
                 % (what, peer[0], peer[1], timeout))
        data, src = s.recvfrom(65536)
        if same_endpoint(src[:2], peer):
            return data
        print("ignored: %d bytes from %s port %d" % (len(data), src[0],
                                                      src[1]))


def do_initiate(args):
    """Initiation out, response in: the keys, and the tapsec socket."""
    noise = Noise(args.private, args.peer_public, args.psk)
    peer = (args.peer, args.port)
    hs = handshake_socket(args)
    print("ready", flush=True)
    hs.sendto(noise.initiation(new_index()), peer)
    deadline = time.monotonic() + args.hs_timeout
    while True:
        msg = wait_message(hs, peer, deadline, "handshake response",
                           args.hs_timeout)
        if msg[:1] == bytes([MSG_COOKIE]):
            fail("a cookie reply: the responder is under load")
        why = noise.consume_response(msg)
        if why is None:
            break
        if len(msg) == RESPONSE_LEN and msg[0] == MSG_RESPONSE:
            fail(why)
        print("ignored: " + why)
    hs.close()
    print("handshake=ok")
    print("local_index=%#x" % noise.sender)
    print("peer_index=%#x" % noise.peer_index, flush=True)
    s, inner = tapsec_socket(args, noise, peer)
    return s, noise, inner


def daemon_socket(args, fam):
    """A WireGuard socket in TAPSEC_HANDSHAKE_DAEMON mode with the
    handshake options, the inner addresses of --inner, bound to --bind."""
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_TAPSEC)
    except OSError as e:
        fail("socket(IPPROTO_TAPSEC): " + errname(e))
    setopt(s, TAPSEC_PROTOCOL, struct.pack("i", TAPSEC_PROTO_WIREGUARD),
           "TAPSEC_PROTOCOL WIREGUARD")
    setopt(s, TAPSEC_HANDSHAKE, struct.pack("i", TAPSEC_HANDSHAKE_DAEMON),
           "TAPSEC_HANDSHAKE")
    setopt(s, TAPSEC_HANDSHAKE_TIMEOUT,
           struct.pack("I", int(args.hs_timeout * 1000)),
           "TAPSEC_HANDSHAKE_TIMEOUT")
    for opt, value, what in ((TAPSEC_IDENTITY, args.identity, "IDENTITY"),
                             (TAPSEC_TRUST, args.trust, "TRUST"),
                             (TAPSEC_SERVER_NAME, args.server_name,
                              "SERVER_NAME"),
                             (TAPSEC_PSK_IDENTITY, args.psk_identity,
                              "PSK_IDENTITY")):
        if value:
            setopt(s, opt, value.encode(), "TAPSEC_" + what)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    inner = parse_inner(args.inner)
    setopt(s, TAPSEC_WG_INNER, WG_INNER.pack(inner[0], inner[1], inner[2], 0,
                                             inner[3], inner[4]),
           "TAPSEC_WG_INNER")
    try:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.bind))
    except OSError as e:
        fail("bind: " + errname(e))
    return s


def print_peer_identity(s):
    ident = s.getsockopt(SOL_TAPSEC, TAPSEC_PEER_IDENTITY, 256)
    print("peer_identity=" + ident.split(b"\0")[0].decode(), flush=True)


def do_connect(args):
    """tapsec-handshaked runs the handshake: connect() on a WireGuard
    socket in TAPSEC_HANDSHAKE_DAEMON mode returns it keyed, or fails
    with the daemon's errno (printed as error=connect: NAME)."""
    peer = (args.peer, args.port)
    s = daemon_socket(args, family_of(args.peer))
    print("ready", flush=True)
    try:
        s.connect(peer)
    except OSError as e:
        print("error=connect: " + errname(e), flush=True)
        return None
    print("handshake=ok", flush=True)
    print_peer_identity(s)
    return s


def do_accept(args):
    """tapsec-handshaked answers: listen() on a WireGuard socket in
    TAPSEC_HANDSHAKE_DAEMON mode, then accept() returns a socket keyed
    with the peer whose initiation came, or fails with the daemon's errno
    (printed as error=accept: NAME)."""
    ls = daemon_socket(args, family_of(args.local))
    try:
        ls.listen()
    except OSError as e:
        fail("listen: " + errname(e))
    print("ready", flush=True)
    if not select.select([ls], [], [], args.hs_timeout)[0]:
        fail("timeout: no initiation in %g s" % args.hs_timeout)
    try:
        s, src = ls.accept()
    except OSError as e:
        print("error=accept: " + errname(e), flush=True)
        return None
    print("handshake=ok", flush=True)
    print("accepted=%s,%d" % (src[0], src[1]))
    print_peer_identity(s)
    ls.close()
    return s


def send_from_port(args, dst, payload):
    """PAYLOAD in a UDP datagram from --bind to DST, through a raw socket:
    the port's own socket is the tapsec one by now."""
    fam = family_of(dst[0])
    probe = socket.socket(fam, socket.SOCK_DGRAM)
    probe.connect(dst)
    src = probe.getsockname()[0]
    probe.close()
    a, b = socket.inet_pton(fam, src), socket.inet_pton(fam, dst[0])
    udp = struct.pack("!HHHH", args.bind, dst[1], 8 + len(payload), 0) + \
        payload
    csum = 0xffff - inet_sum(pseudo_header(fam, a, b, len(udp)) + udp)
    udp = udp[:6] + struct.pack("!H", csum or 0xffff) + udp[8:]
    raw = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_UDP)
    try:
        raw.bind((src, 0))
        raw.sendto(udp, (dst[0], 0))
    except OSError as e:
        fail("the response through a raw socket: " + errname(e))
    raw.close()


def do_respond(args):
    """An initiation in, our response out: the keys, and the tapsec
    socket, made before the response leaves."""
    noise = Noise(args.private, args.peer_public, args.psk)
    peer = (args.peer, args.port)
    hs = handshake_socket(args)
    print("ready", flush=True)
    deadline = time.monotonic() + args.hs_timeout
    while True:
        msg = wait_message(hs, peer, deadline, "handshake initiation",
                           args.hs_timeout)
        why = noise.consume_initiation(msg)
        if why is None:
            break
        if len(msg) == INITIATION_LEN and msg[0] == MSG_INITIATION:
            fail(why)
        print("ignored: " + why)
    hs.close()
    response = noise.response(new_index())
    s, inner = tapsec_socket(args, noise, peer)
    wire = Wire(args, noise, inner) if args.wire else None
    send_from_port(args, peer, response)
    print("handshake=ok")
    print("local_index=%#x" % noise.sender)
    print("peer_index=%#x" % noise.peer_index, flush=True)
    return s, noise, inner, wire


def counters(s, names):
    """TAPSEC_SOCK_INFO as a dict (the fields before the counters too)."""
    size = SOCK_INFO.size + 8 * len(names)
    buf = s.getsockopt(SOL_TAPSEC, TAPSEC_SOCK_INFO, size)
    head = SOCK_INFO.unpack_from(buf)
    out = {"protocol": head[1], "tx_cipher": head[5], "rx_cipher": head[6]}
    n = (len(buf) - SOCK_INFO.size) // 8
    vals = struct.unpack_from("=%dQ" % n, buf, SOCK_INFO.size)
    out.update(zip(names, vals))
    return out


def rx_counter(s):
    return WG_KEY.unpack(s.getsockopt(SOL_TAPSEC, TAPSEC_RX, WG_KEY.size))[2]


def report(s, names):
    """The keys' counters and TAPSEC_SOCK_INFO, one name=value a line."""
    for name, opt in (("tx_counter", TAPSEC_TX), ("rx_counter", TAPSEC_RX)):
        try:
            print("%s=%d" % (name, WG_KEY.unpack(
                s.getsockopt(SOL_TAPSEC, opt, WG_KEY.size))[2]))
        except OSError as e:
            print("%s=%s" % (name, errname(e)))
    try:
        for k, v in counters(s, names).items():
            print("%s=%d" % (k, v))
    except OSError as e:
        print("error=TAPSEC_SOCK_INFO: " + errname(e))


# --------------------------------------------------------------- data --

class Reader:
    """Datagrams of S, read without blocking after poll() says readable:
    a tapsec socket wakes its reader for messages it then drops (a
    keepalive, a misrouted packet).  Counts those wakeups, and the errors
    recv() gives, by name."""

    def __init__(self, s):
        self.s = s
        self.wakeups = 0
        self.errors = {}

    def next(self, timeout):
        """(data, source) of the next datagram within TIMEOUT s, or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            try:
                return self.s.recvfrom(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                self.wakeups += 1
            except OSError as e:
                self.errors[errname(e)] = self.errors.get(errname(e), 0) + 1

    def report(self):
        print("empty_wakeups=%d" % self.wakeups)
        for name, n in self.errors.items():
            print("error=recv: %s (%d times)" % (name, n))


class Data:
    """The data phase of one end: --send, --expect, --until."""

    def __init__(self, s, args, tapsec, names, dest=None):
        self.s, self.args, self.tapsec, self.names = s, args, tapsec, names
        self.dest = dest
        self.rd = Reader(s)
        self.got = self.ok = self.sent = 0
        self.seen = set()
        self.srcs = []

    def take(self, r):
        data, src = r
        if src[:2] not in self.srcs:
            self.srcs.append(src[:2])
        for k, size in enumerate(self.args.expect):
            if k not in self.seen and data == pattern(k, size):
                self.seen.add(k)
                self.ok += 1
                break
        else:
            print("datagram %d: %d bytes, no datagram of --expect not seen"
                  " before%s" % (self.got, len(data),
                                 "" if data else " (an empty one)"))
        self.got += 1

    def send(self):
        for k, size in enumerate(self.args.send):
            try:
                if self.tapsec:
                    self.s.send(pattern(k, size))
                else:
                    self.s.sendto(pattern(k, size), self.dest)
                self.sent += 1
            except OSError as e:
                print("error=send of datagram %d (%d bytes): %s"
                      % (k, size, errname(e)))

    def until_met(self):
        if not self.args.until:
            return True
        which, n = self.args.until.rsplit("=", 1)
        c = counters(self.s, self.names)
        missing = [w for w in which.split("+") if w not in c]
        if missing:
            fail("--until: no counter " + ", ".join(missing))
        return sum(c[w] for w in which.split("+")) >= int(n)

    def expect(self):
        """The datagrams of --expect, and --until met, within --timeout;
        then whatever else is queued."""
        deadline = time.monotonic() + self.args.timeout
        while True:
            done = self.got >= len(self.args.expect)
            if done and (not self.tapsec or self.until_met()):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                if done:
                    print("timeout: --until %s not met after %g s"
                          % (self.args.until, self.args.timeout))
                else:
                    print("timeout: %d of %d datagrams after %g s"
                          % (self.got, len(self.args.expect),
                             self.args.timeout))
                break
            r = self.rd.next(min(left, 0.02) if done else left)
            if r is not None:
                self.take(r)
        while True:
            r = self.rd.next(0)
            if r is None:
                break
            self.take(r)

    def wait_counter(self, n):
        """A tapsec socket: read (and so open) what comes until its inbound
        counter (one past the highest accepted) reaches N, then say so:
        keepalives are taken in only by a read, and give it nothing."""
        deadline = time.monotonic() + self.args.timeout
        while rx_counter(self.s) < n:
            if time.monotonic() > deadline:
                print("timeout: rx_counter %d, not %d, after %g s"
                      % (rx_counter(self.s), n, self.args.timeout))
                return
            r = self.rd.next(0.05)
            if r is not None:
                self.take(r)
        print("rx_counter_reached=%d" % n, flush=True)

    def run(self):
        if self.args.wait_counter:
            self.wait_counter(self.args.wait_counter)
        if self.args.order == "send":
            self.send()
            self.expect()
        else:
            self.expect()
            # A responder sends only once the initiator's data came.
            if self.got >= len(self.args.expect):
                self.send()
            elif self.args.send:
                print("not sending: the datagrams expected first did not"
                      " come")
        print("sent=%d" % self.sent)
        print("got=%d" % self.got)
        print("ok=%d" % self.ok)
        if not self.tapsec:
            for addr, port in self.srcs:
                print("src=%s,%d" % (addr, port))
        self.rd.report()
        if self.tapsec:
            report(self.s, self.names)


def do_app(args):
    """The application behind kernel WireGuard: a UDP socket on
    --local:--bind sending to --peer:--port."""
    fam = family_of(args.local)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    try:
        s.bind((args.local, args.bind))
    except OSError as e:
        fail("bind: " + errname(e))
    print("ready", flush=True)
    Data(s, args, False, [], (args.peer, args.port)).run()
    return 0


def sizes(v):
    return [int(x) for x in v.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("probe", "pubkey", "initiate", "respond",
                                     "connect", "accept", "app"))
    ap.add_argument("key", nargs="?", help="pubkey: the private key")
    ap.add_argument("--private", help="our static private key (base64)")
    ap.add_argument("--peer-key", help="the peer's static public key")
    ap.add_argument("--psk", help="the preshared key (default: none)")
    ap.add_argument("--peer", help="the peer's outer address (app: the"
                    " inner address datagrams go to)")
    ap.add_argument("--port", type=int, default=51820,
                    help="the peer's UDP port (default 51820)")
    ap.add_argument("--bind", type=int, default=51821,
                    help="our UDP port (default 51821)")
    ap.add_argument("--local", help="app: the address to bind (accept:"
                    " its family)")
    ap.add_argument("--inner", help="tapsec: LOCAL,LPORT,PEER,PPORT, the"
                    " inner addresses and UDP ports (TAPSEC_WG_INNER)")
    ap.add_argument("--send", type=sizes, default=[],
                    help="payload sizes of the datagrams to send")
    ap.add_argument("--expect", type=sizes, default=[],
                    help="payload sizes of the datagrams expected")
    ap.add_argument("--order", choices=("send", "expect"),
                    help="what comes first (default: initiate and app"
                    " send, respond expects)")
    ap.add_argument("--until", help="tapsec: also wait for counters,"
                    " NAME[+NAME...]=N (their sum at least N)")
    ap.add_argument("--wait-counter", type=int, default=0,
                    help="tapsec: first read until the inbound counter is N")
    ap.add_argument("--timeout", type=float, default=30,
                    help="seconds the data may take (default 30)")
    ap.add_argument("--hs-timeout", type=float, default=30,
                    help="seconds the handshake may take (default 30)")
    ap.add_argument("--identity", help="connect, accept: TAPSEC_IDENTITY, the"
                    " daemon's identity with a wireguard-key")
    ap.add_argument("--trust", help="connect, accept: TAPSEC_TRUST")
    ap.add_argument("--server-name", help="connect: TAPSEC_SERVER_NAME,"
                    " the peer's public key among the trust store's")
    ap.add_argument("--psk-identity",
                    help="connect, accept: TAPSEC_PSK_IDENTITY")
    ap.add_argument("--wire", action="store_true",
                    help="check our messages on the wire (a packet socket)")
    args = ap.parse_args()
    if not args.order:
        args.order = "expect" if args.mode in ("respond", "accept") else \
            "send"

    if args.mode == "probe":
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM,
                              IPPROTO_TAPSEC)
        except OSError as e:
            fail("socket(IPPROTO_TAPSEC): " + errname(e))
        setopt(s, TAPSEC_PROTOCOL, struct.pack("i", TAPSEC_PROTO_WIREGUARD),
               "setsockopt(TAPSEC_PROTOCOL, TAPSEC_PROTO_WIREGUARD)")
        crypto()
        print("ok")
        return 0
    if args.mode == "pubkey":
        x25519, _, ser = crypto()
        priv = x25519.X25519PrivateKey.from_private_bytes(
            key32(args.key or "", "the private key"))
        print(base64.b64encode(priv.public_key().public_bytes(
            ser.Encoding.Raw, ser.PublicFormat.Raw)).decode())
        return 0
    if args.mode == "app":
        if not args.local or not args.peer:
            fail("app needs --local and --peer")
        return do_app(args)
    if args.mode in ("connect", "accept"):
        where = "peer" if args.mode == "connect" else "local"
        if not getattr(args, where) or not args.inner or not args.identity:
            fail("%s needs --%s, --inner and --identity" % (args.mode, where))
        s = (do_connect if args.mode == "connect" else do_accept)(args)
        if not s:
            return 1
        Data(s, args, True, counter_names()).run()
        return 0

    for opt in ("private", "peer_key", "peer", "inner"):
        if not getattr(args, opt):
            fail("%s needs --%s" % (args.mode, opt.replace("_", "-")))
    args.private = key32(args.private, "--private")
    args.peer_public = key32(args.peer_key, "--peer-key")
    args.psk = key32(args.psk, "--psk") if args.psk else None
    names = counter_names()
    wire = None
    if args.mode == "initiate":
        s, noise, inner = do_initiate(args)
        if args.wire:
            wire = Wire(args, noise, inner)
    else:
        s, noise, inner, wire = do_respond(args)
    Data(s, args, True, names).run()
    if wire:
        wire.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
