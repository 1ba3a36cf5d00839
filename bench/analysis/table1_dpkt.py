#!/usr/bin/env python3
"""Table 1 counts with dpkt: the Python baseline `make bench` compares `testbed analyze` to.

Usage: table1_dpkt.py CAPTURE SCANNER_IP
Counts, like testbed's Table 1, packets and on-the-wire bytes sent (IP source = scanner) and
received (IP destination = scanner) by protocol class (ICMP incl. ICMPv6, TCP, UDP, other).
Prints one JSON object.
"""
import json
import socket
import sys

import dpkt


def main():
    path, scanner = sys.argv[1], sys.argv[2]
    fam = socket.AF_INET6 if ":" in scanner else socket.AF_INET
    me = socket.inet_pton(fam, scanner)
    classes = {1: "icmp", 58: "icmp", 6: "tcp", 17: "udp"}
    out = {d: {"packets": 0, "bytes": 0, "icmp": 0, "tcp": 0, "udp": 0, "other": 0}
           for d in ("sent", "received")}
    with open(path, "rb") as f:
        try:
            reader = dpkt.pcap.Reader(f)
        except ValueError:
            f.seek(0)
            reader = dpkt.pcapng.Reader(f)
        dlt = reader.datalink()
        for ts, buf in reader:
            wire = len(buf)  # dpkt gives captured bytes; no snaplen cut in the bench capture
            try:
                if dlt == dpkt.pcap.DLT_EN10MB:
                    ip = dpkt.ethernet.Ethernet(buf).data
                elif dlt == dpkt.pcap.DLT_LINUX_SLL:
                    ip = dpkt.sll.SLL(buf).data
                else:
                    ip = dpkt.ip.IP(buf) if buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
            except (dpkt.UnpackError, IndexError):
                continue
            if isinstance(ip, dpkt.ip.IP):
                proto = ip.p
            elif isinstance(ip, dpkt.ip6.IP6):
                proto = ip.p
            else:
                continue
            cls = classes.get(proto, "other")
            for d, addr in (("sent", ip.src), ("received", ip.dst)):
                if addr == me:
                    o = out[d]
                    o["packets"] += 1
                    o["bytes"] += wire
                    o[cls] += 1
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
