#!/usr/bin/env python3
"""How deterministic the targets' side of two runs is: the targets' replies to one
scanner version in repetition 1 and 2 of a results directory, compared field by field.

For every target reply of a kind below, paired in order by the target address and port
that sent it (the scanner's own ports are random per run), the script counts the pairs
present in both runs and how many of them carry the same value in both:
  syn_ack_isn   TCP initial sequence numbers of the targets' SYN-ACKs
  ip_id         IP IDs of the targets' ICMP and UDP-port-unreachable replies, and of
                TCP replies with a non-zero IP ID
Booted targets draw a new ISN/IP ID secret at every boot; targets restored from one saved
state keep the secret (made once at boot, in memory) and differ only by time.

Usage: bench/lab/target-determinism.py RESULTS_DIR [VERSION]   (needs tshark)
"""
import json
import subprocess
import sys
from pathlib import Path


def fields(pcap, display_filter, names):
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-n", "-Y", display_filter, "-T", "fields"]
        + sum([["-e", n] for n in names], []),
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def replies(pcap, scanner):
    isn, ipid = {}, {}
    for src, sport, dport, seq in fields(
            pcap, f"ip.dst=={scanner} && tcp.flags.syn==1 && tcp.flags.ack==1",
            ["ip.src", "tcp.srcport", "tcp.dstport", "tcp.seq_raw"]):
        isn.setdefault((src, sport), []).append(seq)
    for src, proto, ident, icmp_type, sport, dport in fields(
            pcap, f"ip.dst=={scanner} && (icmp || (tcp && ip.id != 0))",
            ["ip.src", "ip.proto", "ip.id", "icmp.type", "tcp.srcport", "tcp.dstport"]):
        ipid.setdefault((src, proto, icmp_type, sport), []).append(ident)
    return isn, ipid


def same(a, b):
    """Replies of one kind from one target port, in order: pairs present in both runs."""
    n = s = 0
    for k in set(a) & set(b):
        for x, y in zip(a[k], b[k]):
            n += 1
            s += x == y
    return n, s


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    versions = [sys.argv[2]] if len(sys.argv) > 2 else sorted(
        p.name for p in root.iterdir() if (p / "1" / "capture.pcap").exists())
    for v in versions:
        r1, r2 = root / v / "1" / "capture.pcap", root / v / "2" / "capture.pcap"
        if not r2.exists():
            print(f"{v}: no repetition 2")
            continue
        manifest = json.loads((root / v / "1" / "manifest.json").read_text())
        scanner = manifest["lab"]["scanner_address"]
        a_isn, a_id = replies(r1, scanner)
        b_isn, b_id = replies(r2, scanner)
        n, s = same(a_isn, b_isn)
        m, t = same(a_id, b_id)
        print(f"{v}: syn_ack_isn {s}/{n} identical across runs; ip_id {t}/{m} identical")


if __name__ == "__main__":
    main()
