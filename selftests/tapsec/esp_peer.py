#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One end of esp_xfrm_test.sh: a tapsec ESP-in-UDP socket (TAPSEC_PROTO_ESP)
or, with --plain, an ordinary UDP socket (the application behind the
kernel's xfrm).

  esp_peer.py probe                       can this kernel make an ESP socket?
  esp_peer.py encap [--bind PORT]         hold UDP_ENCAP_ESPINUDP sockets open
  esp_peer.py send|recv|echo|ping [...]   move datagrams, then report
  esp_peer.py stop ADDR PORT              end a plain "recv" early
  esp_peer.py sniff --rx SA [...]         decode the SA's packets arriving

Datagram K of a run carries pattern(K, size): a receiver checks each one's
size and content, in any order.  What a run prints, one "name=value" per line:
got= (datagrams received, extras included), ok= (those matching one
expected, in any order), src=ADDR,PORT (plain recv: each sender), sent=,
echoed=, empty_wakeups= (poll() said readable, recv() found nothing),
errors as "error=..." (and lines saying what is wrong); for a tapsec
socket then tx_seq= and rx_seq= (TAPSEC_TX/RX), protocol=, tx_cipher=,
rx_cipher= and every counter of struct tapsec_counters.  sniff prints a
line per packet, then packets=, ok=, ivs_distinct= and seqs=.
"""

import argparse
import errno
import os
import re
import select
import signal
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
TAPSEC_REPLAY_WINDOW = 36
TAPSEC_PROTO_ESP = 3
UDP_ENCAP = 100			# linux/udp.h
UDP_ENCAP_ESPINUDP = 2
SO_RCVBUFFORCE = 33

# name: (TAPSEC_CIPHER_*, key bytes)
CIPHERS = {
    "aes128gcm": (51, 16),
    "aes256gcm": (52, 32),
    "chacha20": (54, 32),
}

# struct tapsec_esp_sa: spi, cipher, flags, inner_sport, inner_dport, seq,
# key[32], salt[4]
ESP_SA = struct.Struct("=IHHHHI32s4sI")   # struct tapsec_esp_sa, with seq_hi
ESP_F_ESN = 1
# struct tapsec_sock_info up to its counters
SOCK_INFO = struct.Struct("=IIIHHHHI")

# A plain "recv" ends when this arrives (esp_peer.py stop).
STOP = b"\0esp_peer stop\0"

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "../../uapi/linux/tapsec.h")


def fail(msg):
    print("error=" + msg, flush=True)
    sys.exit(1)


def errname(e):
    name = errno.errorcode.get(e.errno, str(e.errno))
    return "EOPNOTSUPP" if name == "ENOTSUP" else name


def counter_names():
    """The fields of struct tapsec_counters, in order, from the uapi header
    (they grow at the end; reading them here keeps up)."""
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


def parse_sa(spec):
    """SPI,CIPHER,INNER_SPORT,INNER_DPORT,KEYHEX,SALTHEX[,esn[=LAST]]: the
    struct tapsec_esp_sa; esn: extended sequence numbers, LAST the 64-bit
    number an outbound SA sent last (0: a new SA)."""
    try:
        fields = spec.split(",")
        spi, cipher, sport, dport, key, salt = fields[:6]
        flags, last = 0, 0
        if len(fields) == 7:
            esn, _, val = fields[6].partition("=")
            if esn != "esn":
                raise ValueError
            flags, last = ESP_F_ESN, int(val or "0", 0)
        elif len(fields) != 6:
            raise ValueError
        num, keylen = CIPHERS[cipher]
        key = bytes.fromhex(key)
        salt = bytes.fromhex(salt)
    except (ValueError, KeyError):
        fail("bad SA " + spec)
    if len(key) != keylen or len(salt) != 4:
        fail("SA %s: %s takes a %d-byte key and a 4-byte salt"
             % (spec, cipher, keylen))
    return ESP_SA.pack(int(spi, 0), num, flags, int(sport), int(dport),
                       last & 0xffffffff, key.ljust(32, b"\0"), salt,
                       last >> 32)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def setopt(sock, opt, value, what):
    try:
        sock.setsockopt(SOL_TAPSEC, opt, value)
    except OSError as e:
        fail("%s: %s" % (what, errname(e)))


def tapsec_socket(args):
    """An ESP socket on :args.bind, connected to args.peer:args.port, with
    the SAs of --tx and --rx."""
    fam = family_of(args.peer)
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_TAPSEC)
    except OSError as e:
        fail("socket(IPPROTO_TAPSEC): " + errname(e))
    setopt(s, TAPSEC_PROTOCOL, struct.pack("i", TAPSEC_PROTO_ESP),
           "TAPSEC_PROTOCOL ESP")
    if args.replay_window:
        setopt(s, TAPSEC_REPLAY_WINDOW, struct.pack("I", args.replay_window),
               "TAPSEC_REPLAY_WINDOW")
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    try:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.bind))
        s.connect((args.peer, args.port))
    except OSError as e:
        fail("bind/connect: " + errname(e))
    if args.tx:
        setopt(s, TAPSEC_TX, parse_sa(args.tx), "TAPSEC_TX")
    if args.rx:
        setopt(s, TAPSEC_RX, parse_sa(args.rx), "TAPSEC_RX")
    return s


def plain_socket(args):
    """A UDP socket on args.local:args.bind (the inner port)."""
    addr = args.local or args.peer
    if not addr:
        fail("--plain needs --local or --peer")
    fam = family_of(addr)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    try:
        s.bind((args.local or ("::" if fam == socket.AF_INET6 else "0.0.0.0"),
                args.bind))
    except OSError as e:
        fail("bind: " + errname(e))
    return s


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


def until_met(s, names, until):
    """--until A+B=N: counters A and B add up to N or more."""
    if not until:
        return True
    which, n = until.rsplit("=", 1)
    try:
        c = counters(s, names)
    except OSError as e:
        fail("TAPSEC_SOCK_INFO: " + errname(e))
    missing = [w for w in which.split("+") if w not in c]
    if missing:
        fail("--until: no counter " + ", ".join(missing))
    return sum(c.get(w, 0) for w in which.split("+")) >= int(n)


def report(s, args, names):
    """tx_seq, rx_seq and TAPSEC_SOCK_INFO, one name=value a line."""
    if args.plain:
        return
    for name, opt in (("tx_seq", TAPSEC_TX), ("rx_seq", TAPSEC_RX)):
        try:
            sa = ESP_SA.unpack(s.getsockopt(SOL_TAPSEC, opt, ESP_SA.size))
            print("%s=%d" % (name, sa[8] << 32 | sa[5]))
        except OSError as e:
            print("%s=%s" % (name, errname(e)))
    try:
        for k, v in counters(s, names).items():
            print("%s=%d" % (k, v))
    except OSError as e:
        print("error=TAPSEC_SOCK_INFO: " + errname(e))


def check(k, data, sizes):
    """Is DATA what datagram K should be?  Says why not."""
    if k >= len(sizes):
        print("datagram %d: %d bytes, one too many" % (k, len(data)))
        return False
    if data == pattern(k, sizes[k]):
        return True
    if len(data) != sizes[k]:
        print("datagram %d: %d bytes, expected %d" % (k, len(data), sizes[k]))
    else:
        want = pattern(k, sizes[k])
        i = next(i for i in range(len(data)) if data[i] != want[i])
        print("datagram %d: %d bytes, differs from byte %d (%s, expected %s)"
              % (k, len(data), i, data[i:i + 8].hex(), want[i:i + 8].hex()))
    return False


def match(data, sizes, seen, got):
    """DATA is one of the expected datagrams not seen yet, in any order:
    UDP keeps none (an IP-fragmented datagram may come after the next),
    and ESP's replay window accepts reordering.  Says why not."""
    for k, size in enumerate(sizes):
        if k not in seen and data == pattern(k, size):
            seen.add(k)
            return True
    return check(got, data, sizes)


def do_send(s, args, names):
    sent = 0
    for k, size in enumerate(args.sizes):
        try:
            if args.plain:
                s.sendto(pattern(k, size), (args.peer, args.port))
            else:
                s.send(pattern(k, size))
            sent += 1
        except OSError as e:
            print("error=send of datagram %d (%d bytes): %s"
                  % (k, size, errname(e)))
    print("sent=%d" % sent)
    report(s, args, names)
    return sent == len(args.sizes)


class Reader:
    """Datagrams of S, read without blocking after poll() says readable:
    a socket may wake its reader for a packet it then drops (a bad tag,
    a replay), as UDP does for a bad checksum.  Counts those wakeups, and
    the errors recv() gives, by name."""

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

    def queued(self):
        """(data, source) of a datagram already queued, or None."""
        try:
            return self.s.recvfrom(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        except OSError as e:
            self.errors[errname(e)] = self.errors.get(errname(e), 0) + 1
            return None

    def report(self):
        print("empty_wakeups=%d" % self.wakeups)
        for name, n in self.errors.items():
            print("error=recv: %s (%d times)" % (name, n))


def do_recv(s, args, names):
    """Datagrams until len(--sizes) are in and --until is met (or STOP, or
    --timeout), then whatever is queued besides."""
    got = ok = 0
    seen = set()
    srcs = []
    rd = Reader(s)
    deadline = time.monotonic() + args.timeout
    while True:
        done = got >= len(args.sizes) and not args.wait_stop
        if done and until_met(s, names, args.until):
            break
        left = deadline - time.monotonic()
        if left <= 0:
            if done:
                print("timeout: --until %s not met after %g s"
                      % (args.until, args.timeout))
            else:
                print("timeout: %d of %d datagrams after %g s"
                      % (got, len(args.sizes), args.timeout))
            break
        # Waiting for a counter only: look at it every 20 ms.
        r = rd.next(min(left, 0.02) if done else left)
        if r is None:
            continue
        if args.plain and r[0] == STOP:
            break
        if r[1][:2] not in srcs:
            srcs.append(r[1][:2])
        ok += match(r[0], args.sizes, seen, got)
        got += 1
    while True:
        r = rd.queued()
        if r is None:
            break
        if args.plain and r[0] == STOP:
            continue
        ok += match(r[0], args.sizes, seen, got)
        got += 1
    print("got=%d" % got)
    print("ok=%d" % ok)
    if args.plain:
        for addr, port in srcs:
            print("src=%s,%d" % (addr, port))
    rd.report()
    report(s, args, names)
    return True


def do_echo(s, args, names):
    """Send back each datagram, len(--sizes) of them."""
    n = 0
    rd = Reader(s)
    deadline = time.monotonic() + args.timeout
    while n < len(args.sizes):
        r = rd.next(deadline - time.monotonic())
        if r is None:
            print("timeout: %d of %d datagrams" % (n, len(args.sizes)))
            break
        try:
            if args.plain:
                s.sendto(r[0], r[1])
            else:
                s.send(r[0])
            n += 1
        except OSError as e:
            print("error=send: " + errname(e))
    print("echoed=%d" % n)
    rd.report()
    report(s, args, names)
    return True


def do_ping(s, args, names):
    """Send each datagram and wait for it to come back."""
    got = ok = 0
    rd = Reader(s)
    for k, size in enumerate(args.sizes):
        try:
            if args.plain:
                s.sendto(pattern(k, size), (args.peer, args.port))
            else:
                s.send(pattern(k, size))
        except OSError as e:
            print("error=send of datagram %d: %s" % (k, errname(e)))
            break
        r = rd.next(args.timeout)
        if r is None:
            print("timeout: no answer to datagram %d (%d bytes)" % (k, size))
            break
        ok += check(k, r[0], args.sizes)
        got += 1
    print("got=%d" % got)
    print("ok=%d" % ok)
    rd.report()
    report(s, args, names)
    return True


def inet_sum(data):
    """RFC 1071 one's complement sum of DATA, folded to 16 bits."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


class Opener:
    """Opens ESP packets of one SA with the kernel's AEAD (AF_ALG), the
    algorithm xfrm uses, keyed as xfrm is: key then salt."""

    ALGS = {51: "rfc4106(gcm(aes))", 52: "rfc4106(gcm(aes))",
            54: "rfc7539esp(chacha20,poly1305)"}

    def __init__(self, spec):
        sa = ESP_SA.unpack(parse_sa(spec))
        self.spi, self.sport, self.dport = sa[0], sa[3], sa[4]
        keylen = {51: 16, 52: 32, 54: 32}[sa[1]]
        alg = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
        try:
            alg.bind(("aead", self.ALGS[sa[1]]))
            alg.setsockopt(socket.SOL_ALG, socket.ALG_SET_KEY,
                           sa[6][:keylen] + sa[7])
            alg.setsockopt(socket.SOL_ALG, socket.ALG_SET_AEAD_AUTHSIZE,
                           None, 16)
        except OSError as e:
            fail("AF_ALG %s: %s" % (self.ALGS[sa[1]], errname(e)))
        self.op = alg.accept()[0]

    def open(self, esp):
        """The plaintext of ESP (SPI onwards), None if the ICV is wrong.
        The additional data is SPI, sequence number and IV, the IV also
        the nonce's: as the rfc4106 and rfc7539esp templates take it."""
        self.op.sendmsg_afalg([esp], op=socket.ALG_OP_DECRYPT, iv=esp[8:16],
                              assoclen=16)
        try:
            return self.op.recv(len(esp) - 16)[16:]
        except OSError as e:
            if e.errno == errno.EBADMSG:
                return None
            raise


def decode(pkt, opener, sizes, seen):
    """One IPv4 packet, UDP to port 4500, as a line, and what is wrong
    with it: the ESP header, padding (1, 2, 3..., the fewest that align
    on 4 bytes), next header 17, the inner UDP header (the SA's ports, its
    length, a checksum over the outer addresses) and the payload, which
    must be one of the datagrams not yet SEEN (their numbers; the match
    is added)."""
    ihl = (pkt[0] & 15) * 4
    src, dst = pkt[12:16], pkt[16:20]
    df = (pkt[6] >> 6) & 1
    udp = pkt[ihl:]
    _, _, ulen, ocsum = struct.unpack("!HHHH", udp[:8])
    esp = udp[8:ulen]
    spi, seq = struct.unpack("!II", esp[:8])
    iv = esp[8:16]
    line = "seq=%d spi=%#x iv=%s df=%d ttl=%d tos=%#x outer_csum=%s len=%d" % (
        seq, spi, iv.hex(), df, pkt[8], pkt[1], "set" if ocsum else "0",
        len(esp))
    bad = []
    if spi != opener.spi:
        return line, ["SPI %#x, not %#x" % (spi, opener.spi)]
    pt = opener.open(esp)
    if pt is None:
        return line, ["the ICV does not verify"]
    padlen, nh = pt[-2], pt[-1]
    inner = pt[:-2 - padlen]
    line += " pad=%d nh=%d" % (padlen, nh)
    if pt[-2 - padlen:-2] != bytes(range(1, padlen + 1)):
        bad.append("padding %s" % pt[-2 - padlen:-2].hex())
    if len(pt) % 4 or padlen > 3:
        bad.append("%d bytes encrypted with %d of padding" % (len(pt), padlen))
    if nh != 17:
        bad.append("next header %d" % nh)
    isport, idport, ilen, icsum = struct.unpack("!HHHH", inner[:8])
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(inner))
    csum = ("none" if icsum == 0 else
            "ok" if inet_sum(pseudo + inner) == 0xffff else "bad")
    line += " inner=%d>%d ulen=%d csum=%s" % (isport, idport, ilen, csum)
    if (isport, idport) != (opener.sport, opener.dport):
        bad.append("inner ports %d>%d, not %d>%d"
                   % (isport, idport, opener.sport, opener.dport))
    if ilen != len(inner):
        bad.append("inner UDP length %d of %d bytes" % (ilen, len(inner)))
    if csum != "ok":
        bad.append("inner UDP checksum %#06x %s" % (icsum, csum))
    if not match(inner[8:], sizes, seen, len(seen)):
        bad.append("payload (%d bytes) is no datagram not seen before"
                   % len(inner[8:]))
    return line, bad


def do_sniff(args):
    """The ESP packets of SA --rx arriving in this namespace (IPv4, port
    4500, reassembled: a raw socket's copy), until len(--sizes) of them
    came, SIGTERM (those queued are still read) or --timeout; each one
    decoded.  Then packets=, ok=, ivs_distinct=, seqs= (1-N: the numbers
    1 to N, in any order)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    raw.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    opener = Opener(args.rx)
    n = ok = 0
    seqs, ivs, seen = [], set(), set()
    # SIGTERM wakes the select() below through this socket.
    wake, woken = socket.socketpair()
    wake.setblocking(False)
    signal.set_wakeup_fd(wake.fileno())
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    print("ready", flush=True)
    deadline = time.monotonic() + args.timeout
    while n < len(args.sizes):
        left = max(deadline - time.monotonic(), 0)
        ready = select.select([raw, woken], [], [], left)[0]
        if woken in ready:
            deadline = 0
            ready = select.select([raw], [], [], 0)[0]
            if not ready:
                print("stopped: %d of %d packets" % (n, len(args.sizes)))
                break
        if not ready:
            print("timeout: %d of %d packets" % (n, len(args.sizes)))
            break
        pkt = raw.recv(65536)
        ihl = (pkt[0] & 15) * 4
        if struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0] != args.bind:
            continue
        line, bad = decode(pkt, opener, args.sizes, seen)
        print("packet %d: %s" % (n, line))
        for b in bad:
            print("packet %d: wrong: %s" % (n, b))
        seqs.append(struct.unpack("!I", pkt[ihl + 12:ihl + 16])[0])
        ivs.add(pkt[ihl + 16:ihl + 24])
        ok += not bad
        n += 1
    print("packets=%d" % n)
    print("ok=%d" % ok)
    print("ivs_distinct=%d" % len(ivs))
    print("seqs=%s" % ("1-%d" % n if sorted(seqs) == list(range(1, n + 1))
                       else ",".join(map(str, seqs))))
    return True


def do_encap(args):
    """The xfrm side's ESP-in-UDP sockets (IPv4, IPv6): while they are open
    the kernel hands what comes to args.bind to xfrm."""
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, args.bind))
            s.setsockopt(socket.IPPROTO_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP)
        except OSError as e:
            fail("ESP-in-UDP socket (%s): %s"
                 % ("IPv6" if fam == socket.AF_INET6 else "IPv4", errname(e)))
        socks.append(s)
    print("ready", flush=True)
    while True:
        signal.pause()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("probe", "encap", "send", "recv", "echo",
                                     "ping", "stop", "sniff"))
    ap.add_argument("where", nargs="*", help="stop: ADDR PORT")
    ap.add_argument("--plain", action="store_true",
                    help="an ordinary UDP socket, not a tapsec one")
    ap.add_argument("--peer", help="tapsec: the peer's address (connected);"
                    " --plain: where send and ping go")
    ap.add_argument("--port", type=int, default=4500,
                    help="the peer's port (default 4500)")
    ap.add_argument("--local", help="--plain: the address to bind")
    ap.add_argument("--bind", type=int, default=4500,
                    help="local port (default 4500); sniff: the packets'"
                    " destination port")
    ap.add_argument("--tx", help="outbound SA:"
                    " SPI,CIPHER,SPORT,DPORT,KEYHEX,SALTHEX[,esn[=LAST]]")
    ap.add_argument("--rx", help="inbound SA, as --tx; sniff: the SA of the"
                    " packets to decode")
    ap.add_argument("--replay-window", type=int, default=0,
                    help="TAPSEC_REPLAY_WINDOW (default: the kernel's)")
    ap.add_argument("--sizes", default="",
                    type=lambda v: [int(x) for x in v.split(",") if x],
                    help="payload sizes of the datagrams, comma separated")
    ap.add_argument("--timeout", type=float, default=30,
                    help="seconds a recv, echo, ping or sniff waits"
                    " (default 30: the debug kernel's first use of a"
                    " cipher runs its self-tests under KASAN)")
    ap.add_argument("--until", help="recv: also wait for counters,"
                    " NAME[+NAME...]=N (their sum at least N)")
    ap.add_argument("--wait-stop", action="store_true",
                    help="recv --plain: until esp_peer.py stop (or --timeout)")
    args = ap.parse_args()

    if args.mode == "encap":
        do_encap(args)
    if args.mode == "sniff":
        if not args.rx:
            fail("sniff needs --rx: the SA of the packets")
        return 0 if do_sniff(args) else 1
    if args.mode == "stop":
        if len(args.where) != 2:
            fail("stop ADDR PORT")
        addr, port = args.where
        socket.socket(family_of(addr), socket.SOCK_DGRAM).sendto(
            STOP, (addr, int(port)))
        return 0
    if args.mode == "probe":
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM,
                              IPPROTO_TAPSEC)
        except OSError as e:
            fail("socket(IPPROTO_TAPSEC): " + errname(e))
        setopt(s, TAPSEC_PROTOCOL, struct.pack("i", TAPSEC_PROTO_ESP),
               "setsockopt(TAPSEC_PROTOCOL, TAPSEC_PROTO_ESP)")
        print("ok")
        return 0

    names = counter_names()
    if not args.plain and not args.peer:
        fail("a tapsec socket needs --peer")
    s = plain_socket(args) if args.plain else tapsec_socket(args)
    print("ready", flush=True)
    run = {"send": do_send, "recv": do_recv, "echo": do_echo,
           "ping": do_ping}[args.mode]
    return 0 if run(s, args, names) else 1


if __name__ == "__main__":
    sys.exit(main())
