#include "orchestrator/analysis/packet_key.h"

// xxHash compiled in (the same hash values as the library): the per-packet inputs are short
// and of fixed size, so the inlined code is a fraction of a library call.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

#include <fmt/format.h>

namespace testbed::analysis {
namespace {
struct FieldName {
  const char* name;
  KeyField bit;
};
constexpr FieldName kFieldNames[] = {
    {"ttl", kKeyTtl}, {"ipid", kKeyIpId}, {"window", kKeyWindow},
    {"tcp-options", kKeyTcpOptions}, {"icmp", kKeyIcmpTypeCode},
};
}  // namespace

util::Result<uint32_t> parse_key_fields(std::string_view csv) {
  uint32_t out = 0;
  while (!csv.empty()) {
    size_t comma = csv.find(',');
    std::string_view w = csv.substr(0, comma);
    csv = comma == std::string_view::npos ? std::string_view{} : csv.substr(comma + 1);
    while (!w.empty() && w.front() == ' ') w.remove_prefix(1);
    while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
    if (w.empty()) continue;
    bool found = false;
    for (const FieldName& f : kFieldNames)
      if (w == f.name || (w == "ip-id" && f.bit == kKeyIpId) || (w == "icmp-type-code" && f.bit == kKeyIcmpTypeCode) ||
          ((w == "tcp-opts" || w == "tcp_options") && f.bit == kKeyTcpOptions)) {
        out |= f.bit;
        found = true;
      }
    if (!found)
      return util::fail("unknown key field \"{}\" (choose from ttl, ipid, window, tcp-options, icmp)", w);
  }
  return out;
}

std::string key_fields_str(uint32_t fields) {
  std::string s;
  for (const FieldName& f : kFieldNames)
    if (fields & f.bit) s += (s.empty() ? "" : ",") + std::string(f.name);
  return s;
}

IpAddr PacketKey::src_addr() const {
  IpAddr a;
  a.family = family;
  std::memcpy(a.bytes, src, 16);
  return a;
}

IpAddr PacketKey::dst_addr() const {
  IpAddr a;
  a.family = family;
  std::memcpy(a.bytes, dst, 16);
  return a;
}

ProtoClass PacketKey::proto_class() const {
  switch (proto) {
    case 6: return ProtoClass::kTcp;
    case 17: return ProtoClass::kUdp;
    case 1: case 58: return ProtoClass::kIcmp;
    default: return ProtoClass::kOther;
  }
}

std::string PacketKey::proto_name() const {
  switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    default: return fmt::format("proto {}", proto);
  }
}

size_t PacketKeyHash::operator()(const PacketKey& k) const { return XXH3_64bits(&k, sizeof k); }

void PacketKeySet::grow(size_t min_slots) {
  size_t n = 16;
  while (n < min_slots) n <<= 1;
  std::vector<Slot> fresh(n);
  const size_t mask = n - 1;
  for (size_t i = 0; i < size_; ++i) {
    uint64_t h = XXH3_64bits(&at(i), sizeof(PacketKey));
    size_t pos = h & mask;
    while (fresh[pos].index_plus1) pos = (pos + 1) & mask;
    fresh[pos] = Slot{uint32_t(i + 1), uint32_t(h >> 32)};
  }
  slots_.swap(fresh);
}

void PacketKeySet::reserve(size_t n) {
  if (n * 10 > slots_.size() * 7) grow(n * 10 / 7 + 1);
}

bool PacketKeySet::insert(const PacketKey& k) { return insert_hashed(k, XXH3_64bits(&k, sizeof k)); }

uint64_t PacketKeySet::hash_and_prefetch(const PacketKey& k) const {
  const uint64_t h = XXH3_64bits(&k, sizeof k);
  if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)], 1);
  return h;
}

bool PacketKeySet::insert_hashed(const PacketKey& k, uint64_t h) {
  if ((size_ + 1) * 10 > slots_.size() * 7) grow(slots_.size() * 2);
  const uint32_t tag = uint32_t(h >> 32);
  const size_t mask = slots_.size() - 1;
  size_t pos = h & mask;
  while (slots_[pos].index_plus1) {
    if (slots_[pos].tag == tag && at(slots_[pos].index_plus1 - 1) == k) return false;
    pos = (pos + 1) & mask;
  }
  if (size_ % kChunk == 0) {
    chunks_.emplace_back();
    chunks_.back().reserve(kChunk);  // never reallocates: element addresses stay valid
  }
  chunks_.back().push_back(k);
  ++size_;
  slots_[pos] = Slot{uint32_t(size_), tag};
  return true;
}

size_t PacketKeySet::count(const PacketKey& k) const {
  if (size_ == 0) return 0;
  const uint64_t h = XXH3_64bits(&k, sizeof k);
  const uint32_t tag = uint32_t(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t pos = h & mask; slots_[pos].index_plus1; pos = (pos + 1) & mask)
    if (slots_[pos].tag == tag && at(slots_[pos].index_plus1 - 1) == k) return 1;
  return 0;
}

uint64_t payload_hash(const uint8_t* data, size_t len) {
  if (len == 0) return 0;
  uint64_t h = XXH3_64bits(data, len);
  return h == 0 ? 1 : h;
}

PacketKey make_packet_key(const PacketInfo& p, uint64_t hash, uint32_t extra) {
  PacketKey k;
  k.family = p.ip_version;
  std::memcpy(k.src, p.src.bytes, 16);
  std::memcpy(k.dst, p.dst.bytes, 16);
  k.proto = p.ip_proto;
  k.length = p.ip_len;
  k.payload_hash = hash;
  if (p.has_transport) {
    if (p.proto_class == ProtoClass::kTcp || p.proto_class == ProtoClass::kUdp) k.dport = p.dport;
    if (p.proto_class == ProtoClass::kTcp) k.tcp_flags = p.tcp_flags;
  }
  if (extra & kKeyTtl) k.ttl = p.ttl;
  if (extra & kKeyIpId) k.ip_id = p.ip_id;
  if (p.has_transport && p.proto_class == ProtoClass::kTcp) {
    if (extra & kKeyWindow) k.window = p.tcp_window;
    if (extra & kKeyTcpOptions) k.tcp_options = p.tcp_opt_layout;
  }
  if (p.has_transport && p.proto_class == ProtoClass::kIcmp && (extra & kKeyIcmpTypeCode)) {
    k.icmp_type = p.icmp_type;
    k.icmp_code = p.icmp_code;
  }
  return k;
}

void PayloadStore::add(uint64_t hash, const uint8_t* data, size_t len) {
  if (hash == 0 || full_) return;
  auto [it, inserted] = data_.try_emplace(hash);
  if (!inserted) return;
  size_t n = std::min(len, max_payload_);
  if (bytes_ + n > budget_) {
    data_.erase(it);
    full_ = true;
    return;
  }
  it->second.assign(reinterpret_cast<const char*>(data), n);
  bytes_ += n;
}

const std::string* PayloadStore::find(uint64_t hash) const {
  auto it = data_.find(hash);
  return it == data_.end() ? nullptr : &it->second;
}

std::string PayloadStore::preview(uint64_t hash, size_t n) const {
  const std::string* p = find(hash);
  if (!p) return hash ? "(payload not kept)" : "";
  std::string s = p->substr(0, n);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '.';
  return s;
}

}  // namespace testbed::analysis
