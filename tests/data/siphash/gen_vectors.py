#!/usr/bin/env python3
"""Writes buckets.txt: conntrack bucket vectors for the kernel's three siphash
forms of hash_conntrack_raw (H1: v5.15-6.1, H2: v6.2-6.4.4, H3: v6.5+).

An independent implementation, for tests/siphash_test.cc: SipHash-2-4 written
here from the paper (Aumasson and Bernstein, "SipHash: a fast short-input
PRF", 2012), checked first against the paper's 64 reference vectors, and the
kernel's byte layouts built here from the addresses and ports directly (not
from ctsim's tuple). Stdlib only. Run from anywhere:

    python3 tests/data/siphash/gen_vectors.py

It rewrites buckets.txt next to itself; the output is deterministic.
"""

import ipaddress
import os
import struct
import sys

MASK64 = (1 << 64) - 1

# The reference implementation's vectors (vectors.h, vectors_sip64): the
# 8 output bytes, in order, of SipHash-2-4 with key 00 01 .. 0f over the
# message 00 01 .. (n-1), for n = 0..63.
REFERENCE_VECTORS = """
310e0edd47db6f72 fd67dc93c539f874 5a4fa9d909806c0d 2d7efbd796666785
b7877127e09427cf 8da699cd64557618 cee3fe586e46c9cb 37d1018bf50002ab
6224939a79f5f593 b0e4a90bdf82009e f3b9dd94c5bb5d7a a7ad6b22462fb3f4
fbe50e86bc8f1e75 903d84c02756ea14 eef27a8e90ca23f7 e545be4961ca29a1
db9bc2577fcc2a3f 9447be2cf5e99a69 9cd38d96f0b3c14b bd6179a71dc96dbb
98eea21af25cd6be c7673b2eb0cbf2d0 883ea3e395675393 c8ce5ccd8c030ca8
94af49f6c650adb8 eab8858ade92e1bc f315bb5bb835d817 adcf6b0763612e2f
a5c91da7acaa4dde 716595876650a2a6 28ef495c53a387ad 42c341d8fa92d832
ce7cf2722f512771 e37859f94623f3a7 381205bb1ab0e012 ae97a10fd434e015
b4a31508beff4d31 81396229f0907902 4d0cf49ee5d4dcca 5c73336a76d8bf9a
d0a704536ba93e0e 925958fcd6420cad a915c29bc8067318 952b79f3bc0aa6d4
f21df2e41d4535f9 87577519048f53a9 10a56cf5dfcd9adb eb75095ccd986cd0
51a9cb9ecba312e6 96afadfc2ce666c7 72fe52975a4364ee 5a1645b276d592a1
b274cb8ebf87870a 6f9bb4203de7b381 eaecb2a30b22a87f 9924a43cc1315724
bd838d3aafbf8db7 0b1a2a3265d51aea 135079a3231ce660 932b2846e4d70666
e1915f5cb1eca46c f325965ca16d629f 575ff28e60381be5 724506eb4c328a95
""".split()


def rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def siphash24(k0, k1, msg):
    """SipHash-2-4 of the bytes msg with the key words k0, k1 (the paper's
    k0 and k1: the key's bytes 0..7 and 8..15 read little-endian)."""
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def sipround():
        v[0] = (v[0] + v[1]) & MASK64
        v[1] = rotl(v[1], 13) ^ v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK64
        v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK64
        v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK64
        v[1] = rotl(v[1], 17) ^ v[2]
        v[2] = rotl(v[2], 32)

    # Pad: the message, zeros to 7 mod 8, then the length mod 256.
    padded = msg + bytes((7 - len(msg)) % 8) + bytes([len(msg) & 0xFF])
    for i in range(0, len(padded), 8):
        m = int.from_bytes(padded[i:i + 8], "little")
        v[3] ^= m
        sipround()
        sipround()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        sipround()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def key_words(key16):
    return int.from_bytes(key16[:8], "little"), int.from_bytes(key16[8:], "little")


def check_reference_vectors():
    assert len(REFERENCE_VECTORS) == 64
    k0, k1 = key_words(bytes(range(16)))
    for n, want in enumerate(REFERENCE_VECTORS):
        got = siphash24(k0, k1, bytes(range(n))).to_bytes(8, "little").hex()
        if got != want:
            sys.exit(f"siphash24 fails reference vector {n}: got {got}, want {want}")


# --- The kernel's tuple, as bytes in memory (x86) -----------------------------
NFPROTO = {4: 2, 6: 10}  # NFPROTO_IPV4, NFPROTO_IPV6
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def addr16(text):
    a = ipaddress.ip_address(text)
    return a.packed + bytes(16 - len(a.packed))  # IPv4 in the first 4 bytes


def tuple_fields(t):
    """The tuple's parts as the kernel has them in memory:
    (src_u3 16 B, src_u 2 B, l3num 2 B, dst_u3 16 B, dst_u 2 B, protonum)."""
    version = ipaddress.ip_address(t["src"]).version
    if t["proto"] in ("icmp", "icmpv6"):
        typ, code = t["b"]
        src_u = struct.pack(">H", t["a"])  # the echo id, network order
        dst_u = bytes([typ, code])  # type is the first byte
    else:
        src_u = struct.pack(">H", t["a"])  # ports in network order
        dst_u = struct.pack(">H", t["b"])
    l3num = struct.pack("<H", NFPROTO[version])  # host order (x86)
    return addr16(t["src"]), src_u, l3num, addr16(t["dst"]), dst_u, PROTO[t["proto"]]


def h1(t, zone, mix, key16):
    """v5.15-6.1: siphash over the zeroed 48-byte struct {nf_conntrack_man src;
    nf_inet_addr dst; unsigned zone; u32 net_mix; u16 dport; u16 proto}."""
    src, src_u, l3num, dst, dst_u, proto = tuple_fields(t)
    combined = src + src_u + l3num + dst + struct.pack("<II", zone, mix) + dst_u + struct.pack("<H", proto)
    assert len(combined) == 48
    return siphash24(*key_words(key16), combined) & 0xFFFFFFFF


def h2(t, zone, mix, key16):
    """v6.2-6.4.4: siphash_4u64(a, b, c, d) of words built from the tuple's
    32-bit address words and 16-bit port fields as x86 reads them."""
    src, src_u, _, dst, dst_u, proto = tuple_fields(t)
    s = struct.unpack("<4I", src)
    d_ = struct.unpack("<4I", dst)
    su = struct.unpack("<H", src_u)[0]
    du = struct.unpack("<H", dst_u)[0]
    a = s[0] << 32 | s[3]
    b = d_[0] << 32 | d_[3]
    c = su << 32 | du << 16 | proto
    d = zone << 32 | mix
    c ^= s[1] << 32 | s[2]
    d = (d + (d_[1] << 32 | d_[2])) & MASK64
    # siphash_4u64 is siphash over the 32 bytes of the four little-endian words.
    return siphash24(*key_words(key16), struct.pack("<4Q", a, b, c, d)) & 0xFFFFFFFF


def h3(t, zone, mix, key16):
    """v6.5+, v6.4.5+: siphash over the tuple's first 39 bytes (all but dir)
    with key word 0 xored with the zone id and word 1 with net_hash_mix."""
    src, src_u, l3num, dst, dst_u, proto = tuple_fields(t)
    data = src + src_u + l3num + dst + dst_u + bytes([proto])
    assert len(data) == 39
    k0, k1 = key_words(key16)
    return siphash24(k0 ^ zone, k1 ^ mix, data) & 0xFFFFFFFF


# --- The vectors ---------------------------------------------------------------
# Bytes all distinct, so a swapped key word or a byte-order slip shows.
KEY_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SIZES = [512, 7680, 16384, 262144]

# Chosen to catch mistakes: ports whose two bytes differ, a dport whose
# low byte has its top bit set (8080 = 0x1f90: x86 reads 0x901f, the
# sign-extension trap of H2's shift), IPv6 addresses with four distinct
# non-zero words (H2 uses all[0], all[3] apart from all[1], all[2]), an IPv6
# tuple whose words are an IPv4 tuple's (l3num), zone and net_hash_mix swapped
# (H1's field order, H3's key words), zone ids up to 65535 (a u16 in the
# kernel) and a net_hash_mix with its top bit set.
TUPLES = [
    dict(proto="tcp", src="192.0.2.1", dst="198.51.100.2", a=40000, b=443),
    dict(proto="tcp", src="198.51.100.2", dst="192.0.2.1", a=443, b=40000),
    dict(proto="udp", src="10.0.0.1", dst="10.0.0.2", a=5353, b=8080),
    dict(proto="udp", src="10.0.0.1", dst="10.0.0.2", a=8080, b=5353),
    dict(proto="icmp", src="203.0.113.9", dst="198.18.0.1", a=0x1234, b=(8, 0)),
    dict(proto="icmp", src="198.18.0.1", dst="203.0.113.9", a=0x1234, b=(0, 0)),
    dict(proto="tcp", src="2001:db8:1:2:3:4:5:6", dst="2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", a=1, b=65535),
    dict(proto="udp", src="2001:db8::1", dst="2001:db8::2", a=53, b=33000),
    dict(proto="icmpv6", src="2001:db8:0:1::10", dst="2001:db8:ffff::20", a=0xBEEF, b=(128, 0)),
    # The first tuple's address words as IPv6: only l3num differs (H2 ignores it).
    dict(proto="tcp", src="c000:201::", dst="c633:6402::", a=40000, b=443),
]
ZONE_MIX = [(0, 0), (1, 0), (0, 1), (300, 0x9E3779B9), (65535, 0x80000001)]

FORMS = [("H1", h1), ("H2", h2), ("H3", h3)]


def fmt_b(t):
    if t["proto"] in ("icmp", "icmpv6"):
        return "%d/%d" % t["b"]
    return str(t["b"])


def main():
    check_reference_vectors()
    key16 = bytes.fromhex(KEY_HEX)
    lines = [
        "# Written by gen_vectors.py (do not edit): conntrack hash vectors for the",
        "# siphash forms of hash_conntrack_raw, from an implementation independent of ctsim's.",
        "# key: the 16 bytes of nf_conntrack_hash_rnd in memory order (x86).",
        "# sizes: table sizes; each line's buckets are reciprocal_scale(raw, size) for them.",
        "# Line: form proto src dst a b zone net_hash_mix raw bucket...",
        "#   a, b: sport, dport (tcp/udp) or echo id, type/code (icmp, icmpv6).",
        "#   raw: the u32 hash_conntrack_raw() returns, in hex.",
        "key " + KEY_HEX,
        "sizes " + " ".join(str(s) for s in SIZES),
    ]
    for name, form in FORMS:
        for t in TUPLES:
            for zone, mix in ZONE_MIX:
                raw = form(t, zone, mix, key16)
                buckets = " ".join(str((raw * s) >> 32) for s in SIZES)
                lines.append(f"{name} {t['proto']} {t['src']} {t['dst']} {t['a']} {fmt_b(t)} {zone} {mix} "
                             f"{raw:08x} {buckets}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "buckets.txt")
    with open(out, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
