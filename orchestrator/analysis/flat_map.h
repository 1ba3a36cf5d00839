#pragma once
// A small open-addressing hash map from 64-bit keys that are already well-mixed hashes
// (XXH3 outputs) to small values: the per-flow state of PhaseClassifier and the payload
// index of PayloadStore. One flat array of slots, linear probing, backward-shift deletion
// (no tombstones), so a lookup is one cache line in the common case and a miss never walks
// a long chain. The key bits are used as the hash directly; do not key it by raw counters.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace testbed::analysis {

template <typename V>
class FlatU64Map {
 public:
  /// The value stored for `key`, or nullptr. Valid until the next insert or erase.
  V* find(uint64_t key) {
    if (key == 0) return has_zero_ ? &zero_value_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (size_t pos = key & mask_;; pos = (pos + 1) & mask_) {
      Slot& s = slots_[pos];
      if (s.key == key) return &s.value;
      if (s.key == 0) return nullptr;
    }
  }
  const V* find(uint64_t key) const { return const_cast<FlatU64Map*>(this)->find(key); }

  /// The value for `key`, value-initialised when new (std::unordered_map::operator[]).
  V& operator[](uint64_t key) { return *try_emplace(key).first; }

  /// {value, true} when `key` was inserted (value-initialised), {value, false} when present.
  std::pair<V*, bool> try_emplace(uint64_t key) {
    if (key == 0) {
      bool fresh = !has_zero_;
      if (fresh) {
        has_zero_ = true;
        zero_value_ = V{};
        ++size_;
      }
      return {&zero_value_, fresh};
    }
    if ((used_ + 1) * 2 > slots_.size()) grow();
    for (size_t pos = key & mask_;; pos = (pos + 1) & mask_) {
      Slot& s = slots_[pos];
      if (s.key == key) return {&s.value, false};
      if (s.key == 0) {
        s.key = key;
        s.value = V{};
        ++used_;
        ++size_;
        return {&s.value, true};
      }
    }
  }

  /// Removes `key` if present.
  void erase(uint64_t key) {
    if (key == 0) {
      if (has_zero_) --size_;
      has_zero_ = false;
      return;
    }
    if (slots_.empty()) return;
    size_t pos = key & mask_;
    while (slots_[pos].key != key) {
      if (slots_[pos].key == 0) return;
      pos = (pos + 1) & mask_;
    }
    // Backward-shift deletion: move later members of the probe run into the hole when their
    // home slot is at or before it, so lookups never need tombstones.
    size_t hole = pos;
    for (size_t next = (hole + 1) & mask_; slots_[next].key != 0; next = (next + 1) & mask_) {
      size_t home = slots_[next].key & mask_;
      if (((next - home) & mask_) >= ((next - hole) & mask_)) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = Slot{};
    --used_;
    --size_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    uint64_t key = 0;  ///< 0 = empty (the key 0 itself lives in zero_value_)
    V value{};
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 64 : old.size() * 2);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key == 0) continue;
      size_t pos = s.key & mask_;
      while (slots_[pos].key != 0) pos = (pos + 1) & mask_;
      slots_[pos] = s;
    }
  }
  std::vector<Slot> slots_;  ///< power-of-two size, load <= 1/2
  size_t mask_ = 0;
  size_t used_ = 0;  ///< occupied slots (excludes the zero key)
  size_t size_ = 0;
  bool has_zero_ = false;
  V zero_value_{};
};

}  // namespace testbed::analysis
