#!/usr/bin/env python3
# Stdlib-only raw packet writer for the kernel lab (tools/kernel-lab/run.sh).
# Writes raw Ethernet/IPv4 packets onto an interface (AF_PACKET), stdlib only.
# usage: send.py IFACE DSTMAC SPEC...
#   SPEC = tcp,src,dst,sport,dport,flags,seq,ack[,len]
#        | udp,src,dst,sport,dport
#        | icmp,src,dst,type,id,seq                    (echo and other query types)
#        | icmperr,src,dst,type,code,INNER             (ICMP error quoting INNER)
#   INNER is another SPEC (not icmperr) written with ':' instead of ',', e.g.
#   icmperr,198.18.1.100,198.18.1.1,3,3,udp:198.18.1.1:198.18.1.100:2000:53:ttl=63
#   Any SPEC may end with ttl=N (IPv4 TTL, default 64). The quoted INNER packet
#   is the whole packet as built (IPv4 header + L4 header + payload).
import socket, struct, sys

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ip4(src, dst, proto, payload, ident=1, ttl=64):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20+len(payload), ident, 0x4000, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload

def pseudo(src, dst, proto, l4):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, proto, len(l4))

def tcp(src, dst, sport, dport, flags, seq, ack, n=0, ttl=64):
    fl = 0
    for c, bit in (('F',1),('S',2),('R',4),('P',8),('A',16)):
        if c in flags: fl |= bit
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, fl, 64240, 0, 0) + b'x'*n
    c = csum(pseudo(src, dst, 6, seg) + seg)
    return ip4(src, dst, 6, seg[:16] + struct.pack('!H', c) + seg[18:], ttl=ttl)

def udp(src, dst, sport, dport, n=4, ttl=64):
    d = struct.pack('!HHHH', sport, dport, 8+n, 0) + b'u'*n
    c = csum(pseudo(src, dst, 17, d) + d) or 0xffff
    return ip4(src, dst, 17, d[:6] + struct.pack('!H', c) + d[8:], ttl=ttl)

def icmp(src, dst, typ, ident, seq, ttl=64):
    d = struct.pack('!BBHHH', typ, 0, 0, ident, seq) + b'p'*8
    return ip4(src, dst, 1, d[:2] + struct.pack('!H', csum(d)) + d[4:], ttl=ttl)

def icmperr(src, dst, typ, code, inner, ttl=64):
    # type, code, checksum, 4 unused bytes (zero), then the quoted packet
    d = struct.pack('!BBHI', typ, code, 0, 0) + inner
    return ip4(src, dst, 1, d[:2] + struct.pack('!H', csum(d)) + d[4:], ttl=ttl)

def build(f):
    ttl = 64
    if f[-1].startswith('ttl='):
        ttl = int(f[-1][4:]); f = f[:-1]
    if f[0] == 'tcp':
        return tcp(f[1], f[2], int(f[3]), int(f[4]), f[5], int(f[6]), int(f[7]), int(f[8]) if len(f) > 8 else 0, ttl=ttl)
    if f[0] == 'udp':
        return udp(f[1], f[2], int(f[3]), int(f[4]), ttl=ttl)
    if f[0] == 'icmp':
        return icmp(f[1], f[2], int(f[3]), int(f[4]), int(f[5]), ttl=ttl)
    if f[0] == 'icmperr':
        return icmperr(f[1], f[2], int(f[3]), int(f[4]), build(f[5].split(':')), ttl=ttl)
    raise SystemExit('send.py: unknown protocol in spec: %s' % ','.join(f))

iface, dmac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':',''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
smac = open('/sys/class/net/%s/address' % iface).read().strip()
eth = dmac + bytes.fromhex(smac.replace(':','')) + b'\x08\x00'
for spec in sys.argv[3:]:
    s.send(eth + build(spec.split(',')))
