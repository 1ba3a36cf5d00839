#pragma once
// The packet key of the study's unique-packet method (docs/method.md, "Packet metadata"):
// protocol, source IP, destination IP, destination port, length, TCP flags, payload hash.
// Source port, sequence and acknowledgement numbers are ignored (random per run).
// Extra fields (TTL, IP ID, TCP window, TCP option layout, ICMP type/code) can be added.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <vector>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// Extra key fields (bit mask). 0 = the study's key exactly.
enum KeyField : uint32_t {
  kKeyTtl = 1u << 0,        ///< IPv4 TTL / IPv6 hop limit
  kKeyIpId = 1u << 1,       ///< IPv4 identification
  kKeyWindow = 1u << 2,     ///< TCP window
  kKeyTcpOptions = 1u << 3, ///< TCP option kinds in order (Nmap's O1..O6 "layout")
  kKeyIcmpTypeCode = 1u << 4,
};
/// Parses "ttl,ipid,window,tcp-options,icmp" (any order, "" = none). Errors name the bad word.
util::Result<uint32_t> parse_key_fields(std::string_view csv);
/// The inverse of parse_key_fields ("" for none).
std::string key_fields_str(uint32_t fields);

/// One deduplicated packet. 64 bytes, no padding (explicit zeroed filler), so that the
/// object representation is the value: hashing and equality work on the bytes.
struct PacketKey {
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  uint64_t payload_hash = 0;  ///< XXH3-64 of the captured payload; 0 = no payload
  uint32_t length = 0;        ///< IP datagram length from the IP header (link-independent)
  uint32_t ip_id = 0;         ///< extra field (0 unless selected)
  uint32_t tcp_options = 0;   ///< extra field: option layout hash
  uint16_t dport = 0;         ///< TCP/UDP destination port; 0 for others
  uint16_t window = 0;        ///< extra field
  uint8_t family = 0;         ///< 4 or 6
  uint8_t proto = 0;          ///< IP protocol number (6, 17, 1, 58, …)
  uint8_t tcp_flags = 0;
  uint8_t ttl = 0;            ///< extra field
  uint8_t icmp_type = 0;      ///< extra field
  uint8_t icmp_code = 0;      ///< extra field
  uint8_t filler_[2] = {};

  bool operator==(const PacketKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
  IpAddr src_addr() const;
  IpAddr dst_addr() const;
  ProtoClass proto_class() const;
  /// Human-readable protocol name ("TCP", "UDP", "ICMP", "ICMPv6", "proto 47").
  std::string proto_name() const;
};
static_assert(sizeof(PacketKey) == 64);
static_assert(std::has_unique_object_representations_v<PacketKey>);

struct PacketKeyHash {
  size_t operator()(const PacketKey& k) const;
};

/// A set of packet keys (the study's P_n). Open addressing over keys stored in fixed-size
/// chunks: ~80 bytes per key, one or two cache misses per insert, insertion-order
/// iteration, and element addresses stable for the set's lifetime (never moved on growth).
/// Copyable (deep copy).
class PacketKeySet {
 public:
  PacketKeySet() = default;
  PacketKeySet(std::initializer_list<PacketKey> keys) {
    for (const PacketKey& k : keys) insert(k);
  }
  /// Inserts `k`; true when it was not there yet.
  bool insert(const PacketKey& k);
  /// The hash insert() would compute for `k`, after asking the CPU to fetch the index
  /// slot it starts probing at: with insert_hashed() a few keys later, the slot is in
  /// cache by then instead of costing a memory round trip per key (KeyInserter).
  uint64_t hash_and_prefetch(const PacketKey& k) const;
  /// insert() with the hash hash_and_prefetch() returned for `k`.
  bool insert_hashed(const PacketKey& k, uint64_t h);
  template <typename It>
  void insert(It first, It last) {
    for (; first != last; ++first) insert(*first);
  }
  /// 1 when `k` is in the set, else 0 (std::set-like).
  size_t count(const PacketKey& k) const;
  bool contains(const PacketKey& k) const { return count(k) != 0; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Sizes the index for `n` keys (avoids re-indexing while growing).
  void reserve(size_t n);

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = PacketKey;
    using difference_type = std::ptrdiff_t;
    using pointer = const PacketKey*;
    using reference = const PacketKey&;
    const_iterator(const PacketKeySet* s, size_t i) : s_(s), i_(i) {}
    reference operator*() const { return s_->at(i_); }
    pointer operator->() const { return &s_->at(i_); }
    const_iterator& operator++() { ++i_; return *this; }
    const_iterator operator++(int) { auto c = *this; ++i_; return c; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
   private:
    const PacketKeySet* s_;
    size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  static constexpr size_t kChunk = 4096;
  struct Slot {
    uint32_t index_plus1 = 0;  ///< 0 = empty
    uint32_t tag = 0;          ///< high hash bits: most mismatches never touch the key
  };
  const PacketKey& at(size_t i) const { return chunks_[i / kChunk][i % kChunk]; }
  void grow(size_t min_slots);
  std::vector<std::vector<PacketKey>> chunks_;
  std::vector<Slot> slots_;  ///< power-of-two size, load <= 0.7
  size_t size_ = 0;
};

/// Inserts keys into PacketKeySets a few keys late, in order per set, prefetching each
/// key's index slot when it is queued: the inserts of a capture pass (which never look
/// up what they insert) stop waiting on memory. flush() (or the destructor) inserts the
/// rest; the sets are complete only after it.
class KeyInserter {
 public:
  KeyInserter() = default;
  KeyInserter(const KeyInserter&) = delete;
  KeyInserter& operator=(const KeyInserter&) = delete;
  ~KeyInserter() { flush(); }
  void insert(PacketKeySet& set, const PacketKey& k) {
    Pending& slot = ring_[head_ % kDepth];
    if (head_ >= kDepth) slot.set->insert_hashed(slot.key, slot.hash);
    slot = Pending{&set, k, set.hash_and_prefetch(k)};
    ++head_;
  }
  void flush() {
    const size_t n = std::min(head_, kDepth);
    for (size_t i = head_ - n; i < head_; ++i) {
      Pending& p = ring_[i % kDepth];
      p.set->insert_hashed(p.key, p.hash);
    }
    head_ = 0;
  }

 private:
  static constexpr size_t kDepth = 8;
  struct Pending {
    PacketKeySet* set = nullptr;
    PacketKey key;
    uint64_t hash = 0;
  };
  Pending ring_[kDepth];
  size_t head_ = 0;  ///< keys queued since the last flush
};

/// XXH3-64 of a payload; 0 for an empty one (so "no payload" is recognisable).
uint64_t payload_hash(const uint8_t* data, size_t len);

/// Builds the key of a decoded packet (needs ip_version != 0). `hash` = payload_hash of
/// the captured payload bytes.
PacketKey make_packet_key(const PacketInfo& p, uint64_t hash, uint32_t extra_fields);

/// Payload bytes by payload hash, shared by all inputs of one analysis, so unique packets
/// can be shown and compared (similarity rule). Keeps at most `max_payload` bytes of each
/// payload and stops adding once `budget` bytes are held (then `full()` is true and later
/// payloads are known by hash only).
class PayloadStore {
 public:
  explicit PayloadStore(size_t max_payload = 2048, size_t budget = 64u << 20)
      : max_payload_(max_payload), budget_(budget) {}
  void add(uint64_t hash, const uint8_t* data, size_t len);
  /// nullptr when unknown.
  const std::string* find(uint64_t hash) const;
  size_t bytes() const { return bytes_; }
  bool full() const { return full_; }
  /// A printable preview: printable ASCII kept, everything else '.', at most `n` bytes.
  std::string preview(uint64_t hash, size_t n = 48) const;

 private:
  std::unordered_map<uint64_t, std::string> data_;
  size_t max_payload_, budget_, bytes_ = 0;
  bool full_ = false;
};

}  // namespace testbed::analysis
