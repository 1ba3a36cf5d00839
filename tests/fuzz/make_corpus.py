#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/) from files in
the repository. Re-run after changing a source file; it keeps the inputs fuzzing or review
found (crash-*, found-*). libFuzzer adds its own finds to a separate working directory
(see tests/fuzz/README.md), not here.

Sources: tests/analysis/data/nmap793-loopback (a real Nmap 7.93 -A capture, its -oX
report and its time-stamped -v log), experiments/, topology/, images/."""
import os
import shutil
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "analysis", "data", "nmap793-loopback")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def read_pcap(path):
    with open(path, "rb") as f:
        b = f.read()
    magic, = struct.unpack("<I", b[:4])
    assert magic == 0xA1B2C3D4, "expects a little-endian microsecond pcap"
    linktype, = struct.unpack("<I", b[20:24])
    frames, off = [], 24
    while off + 16 <= len(b):
        sec, usec, incl, orig = struct.unpack("<IIII", b[off:off + 16])
        frames.append((sec, usec, orig, b[off + 16:off + 16 + incl]))
        off += 16 + incl
    return linktype, frames


def pcap_bytes(linktype, frames, snaplen=262144, magic=0xA1B2C3D4):
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for sec, usec, orig, data in frames:
        out += struct.pack("<IIII", sec, usec, len(data), orig) + data
    return out


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def relink(eth):
    """One Ethernet frame as the same IP packet on each other link type decode.cc knows:
    (selector byte of fuzz_decode, frame)."""
    ethertype, ip = eth[12:14], eth[14:]
    v6 = ethertype == b"\x86\xdd"
    return [
        (2, ip),                                             # DLT_RAW
        (6, b"\x00\x00" + b"\x03\x04" + b"\x00\x06" + eth[6:12] + b"\x00\x00" + ethertype + ip),  # SLL
        (9, ethertype + b"\x00\x00" + b"\x00\x00\x00\x01" + b"\x00\x00\x03\x06" + eth[6:12] +
         b"\x00\x00" + ip),                                  # SLL2
        (0, struct.pack("<I", 30 if v6 else 2) + ip),        # DLT_NULL
        (8 if v6 else 7, ip),  # DLT_IPV6 / DLT_IPV4
    ]


def main():
    # Regenerate the seeds; keep what fuzzing or review found (crash-*, found-*).
    for root, _, names in os.walk(OUT):
        for name in names:
            if not name.startswith(("crash-", "found-")):
                os.remove(os.path.join(root, name))
    lt, frames = read_pcap(os.path.join(DATA, "capture.pcap"))
    assert lt == 1

    # decode: one frame of each distinct (ethertype, IP protocol, TCP flags, length) shape.
    seen = {}
    for _, _, _, fr in frames:
        proto = fr[23] if fr[12:14] == b"\x08\x00" else -1
        flags = fr[14 + (fr[14] & 15) * 4 + 13] if proto == 6 else 0
        seen.setdefault((fr[12:14], proto, flags, len(fr) > 100), fr)
    n = 0
    for fr in seen.values():
        write("decode", "eth-%02d" % n, bytes([1]) + fr)
        for sel, other in relink(fr):
            write("decode", "sel%d-%02d" % (sel, n), bytes([sel]) + other)
        n += 1
    # A snaplen-cut frame (23: EN10MB, wire 100 bytes longer), a VLAN-tagged frame, and a TCP SYN with Nmap's OS-probe options.
    first = next(iter(seen.values()))
    write("decode", "cut-snaplen", bytes([23]) + first[:40])
    write("decode", "vlan", bytes([1]) + first[:12] + b"\x81\x00\x00\x05" + first[12:])

    # IPv6: a TCP SYN behind a hop-by-hop and a fragment header (first fragment).
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, 1, 0, 0x60, 0x02, 1024, 0, 0) + b"\x02\x04\x05\xb4"
    ext = bytes([44, 0, 1, 4, 0, 0, 0, 0]) + bytes([6, 0, 0, 0]) + struct.pack(">I", 7)
    src = bytes.fromhex("fd000000000000000000000000000010")
    dst = bytes.fromhex("fd000001000000000000000000000010")
    ip6 = struct.pack(">IHBB", 0x60000000, len(ext) + len(tcp), 0, 57) + src + dst + ext + tcp
    write("decode", "ipv6-ext-syn", bytes([8]) + ip6)
    write("decode", "eth-ipv6-ext-syn", bytes([1]) + first[:12] + b"\x86\xdd" + ip6)

    # pcap: the first 40 frames (all three phases start early), the same as pcapng and with
    # nanosecond timestamps, and as SLL2/raw-IP captures.
    head = frames[:40]
    write("pcap", "nmap793-head.pcap", pcap_bytes(1, head))
    write("pcap", "nmap793-head-nsec.pcap",
          pcap_bytes(1, [(s, u * 1000, o, d) for s, u, o, d in head], magic=0xA1B23C4D))
    write("pcap", "nmap793-head-raw.pcap",
          pcap_bytes(101, [(s, u, o - 14, d[14:]) for s, u, o, d in head]))
    sll2 = []
    for s, u, o, d in head:
        _, f2 = relink(d)[2]
        sll2.append((s, u, o + 6, f2))
    write("pcap", "nmap793-head-sll2.pcap", pcap_bytes(276, sll2))
    write("pcap", "nmap793-head-snap64.pcap",
          pcap_bytes(1, [(s, u, o, d[:64]) for s, u, o, d in head], snaplen=64))
    tmp = os.path.join(OUT, "pcap", "nmap793-head.pcapng")
    if shutil.which("editcap"):
        os.system("editcap -F pcapng '%s' '%s'" % (os.path.join(OUT, "pcap", "nmap793-head.pcap"), tmp))

    # Config files, as committed.
    for target, sub in (("experiment", "experiments"), ("topology", "topology"), ("recipe", "images")):
        src = os.path.join(ROOT, sub)
        for name in sorted(os.listdir(src)):
            if name.endswith(".yaml"):
                with open(os.path.join(src, name), "rb") as f:
                    write(target, name, f.read())

    # XML and timelines.
    write("nmap_xml", "nmap793.xml", open(os.path.join(DATA, "nmap.xml"), "rb").read())
    write("nmap_xml", "interrupted.xml",
          b'<?xml version="1.0"?>\n<nmaprun scanner="nmap" args="nmap -A 172.24.1.10" start="1700000000" '
          b'version="7.80"><host><address addr="172.24.1.10" addrtype="ipv4"/><ports><port '
          b'protocol="tcp" portid="80"><state state="open"/><service name="http" product="Apache '
          b'httpd" version="2.4"/></port></ports></host></nmaprun>\n')
    write("timeline", "nmap793.log", open(os.path.join(DATA, "nmap.log"), "rb").read())
    write("timeline", "phases.json",
          b'{\n  "format": "testbed-phases",\n  "version": 1,\n  "clock": "unix-epoch-seconds",\n'
          b'  "source": "nmap -v log",\n  "start": 1700000000.0,\n  "end": 1700000004.5,\n'
          b'  "intervals": [\n    {"phase": "discovery", "start": 1700000000.1, "end": 1700000001.0, '
          b'"label": "Ping Scan"},\n    {"phase": "port-scan", "start": 1700000001.0, "end": '
          b'1700000002.0, "label": "SYN Stealth Scan"},\n    {"phase": "os", "start": 1700000003, '
          b'"end": 1700000004, "label": "OS detection"}\n  ]\n}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
