#!/usr/bin/env python3
# Stdlib-only raw packet writer for the kernel lab (tools/kernel-lab/run.sh).
# Writes raw Ethernet/IPv4 packets onto an interface (AF_PACKET), stdlib only.
# usage: send.py IFACE DSTMAC SPEC...   SPEC = proto,src,dst,sport,dport,flags,seq,ack[,len]
import socket, struct, sys

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def ip4(src, dst, proto, payload, ident=1):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20+len(payload), ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload

def pseudo(src, dst, proto, l4):
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, proto, len(l4))

def tcp(src, dst, sport, dport, flags, seq, ack, n=0):
    fl = 0
    for c, bit in (('F',1),('S',2),('R',4),('P',8),('A',16)):
        if c in flags: fl |= bit
    seg = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, fl, 64240, 0, 0) + b'x'*n
    c = csum(pseudo(src, dst, 6, seg) + seg)
    return ip4(src, dst, 6, seg[:16] + struct.pack('!H', c) + seg[18:])

def udp(src, dst, sport, dport, n=4):
    d = struct.pack('!HHHH', sport, dport, 8+n, 0) + b'u'*n
    c = csum(pseudo(src, dst, 17, d) + d) or 0xffff
    return ip4(src, dst, 17, d[:6] + struct.pack('!H', c) + d[8:])

def icmp(src, dst, typ, ident, seq):
    d = struct.pack('!BBHHH', typ, 0, 0, ident, seq) + b'p'*8
    return ip4(src, dst, 1, d[:2] + struct.pack('!H', csum(d)) + d[4:])

iface, dmac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':',''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
smac = open('/sys/class/net/%s/address' % iface).read().strip()
eth = dmac + bytes.fromhex(smac.replace(':','')) + b'\x08\x00'
for spec in sys.argv[3:]:
    f = spec.split(',')
    if f[0] == 'tcp':
        p = tcp(f[1], f[2], int(f[3]), int(f[4]), f[5], int(f[6]), int(f[7]), int(f[8]) if len(f) > 8 else 0)
    elif f[0] == 'udp':
        p = udp(f[1], f[2], int(f[3]), int(f[4]))
    else:
        p = icmp(f[1], f[2], int(f[3]), int(f[4]), int(f[5]))
    s.send(eth + p)
