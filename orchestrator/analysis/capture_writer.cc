#include "orchestrator/analysis/capture_writer.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace testbed::analysis {

PcapBuffer::PcapBuffer(int dlt, uint32_t snaplen) : dlt_(dlt), snaplen_(snaplen ? snaplen : 262144) {
  // The file header as libpcap writes it: its magic for nanosecond time stamps, and the
  // LINKTYPE_ value of this DLT_ (they differ for some, e.g. DLT_RAW and LINKTYPE_RAW).
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, int(snaplen_), PCAP_TSTAMP_PRECISION_NANO);
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = dead ? open_memstream(&buf, &len) : nullptr;
  pcap_dumper_t* d = mem ? pcap_dump_fopen(dead, mem) : nullptr;
  if (d)
    pcap_dump_close(d);  // closes `mem`: buf/len now hold the header
  else if (mem)
    std::fclose(mem);
  if (buf) bytes_.assign(buf, len);
  std::free(buf);
  if (dead) pcap_close(dead);
  if (bytes_.size() != 24) {  // libpcap could not: the same header by hand, DLT as LINKTYPE
    bytes_.clear();
    put32(0xa1b23c4d);
    put32(2u | (4u << 16));  // version 2.4, two host-order 16-bit fields
    put32(0);
    put32(0);
    put32(snaplen_);
    put32(uint32_t(dlt));
  }
}

void PcapBuffer::put32(uint32_t v) { bytes_.append(reinterpret_cast<const char*>(&v), 4); }

void PcapBuffer::add(const Frame& f) {
  put32(uint32_t(f.hdr.ts.tv_sec));
  put32(uint32_t(f.hdr.ts.tv_usec));  // nanoseconds (Frame)
  put32(f.hdr.caplen);
  put32(std::max(f.hdr.len, f.hdr.caplen));
  bytes_.append(reinterpret_cast<const char*>(f.data), f.hdr.caplen);
  ++records_;
}

}  // namespace testbed::analysis
