#pragma once
// One shard's key index: a chained hash table of Entry nodes, each holding its key inline. The bucket of a
// key is the top bits of its 64-bit hash after the bits that chose the shard, so the buckets, in order,
// cover consecutive ranges of the hash space. SCAN's cursor is a hash value; it stays meaningful when the
// table doubles (bucket i splits into 2i and 2i+1). Not thread safe: the shard's mutex guards it.
//
// RAM per key: sizeof(Entry) (56 bytes) + the key + the allocator's header (8 bytes, rounded to 16), plus
// one or two bucket pointers (the table doubles at load 1): about 72 bytes + key on average.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ember::kv {

struct Entry {
  Entry* next = nullptr;
  uint64_t hash = 0;
  int64_t expireAt = 0;     // absolute Unix ms; 0 = none
  char* cached = nullptr;   // the value in the shard's RAM cache (valueLen bytes), or null
  uint32_t segId = 0;       // where the newest record lives
  uint32_t offset = 0;
  uint32_t valueLen = 0;
  uint32_t cacheSlot = 0;   // position in the shard's CLOCK ring while cached
  uint16_t keyLen = 0;
  uint8_t ref = 0;          // CLOCK reference bit

  const char* keyData() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {keyData(), keyLen}; }
};

class Index {
 public:
  // shardBits: how many top hash bits chose the shard (they are equal for every key here).
  explicit Index(unsigned shardBits);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  Entry* find(uint64_t hash, std::string_view key) const {
    for (Entry* e = buckets_[bucketOf(hash)]; e != nullptr; e = e->next) {
      if (e->hash == hash && e->key() == key) {
        return e;
      }
    }
    return nullptr;
  }
  // Adds a new entry for a key that is not present (the caller checked); grows the table at load 1.
  Entry* insert(uint64_t hash, std::string_view key);
  // Unlinks and frees e.
  void remove(Entry* e);
  // Frees every entry (the caller has released their cached values).
  void clear();

  size_t size() const { return size_; }
  size_t bucketCount() const { return buckets_.size(); }
  unsigned bucketBits() const { return bits_; }
  Entry* bucketHead(size_t i) const { return buckets_[i]; }
  size_t bucketOf(uint64_t hash) const {
    return static_cast<size_t>((hash << shardBits_) >> (64 - bits_));
  }
  // RAM held: entries with their keys and allocator headers, plus the bucket array.
  uint64_t memoryBytes() const { return entryBytes_ + buckets_.capacity() * sizeof(Entry*); }
  // What one more entry for a key of this length costs, its share of the bucket array included (what
  // maxIndexBytes counts; never less than the RAM really used, bar the initial 16 buckets).
  static uint64_t entryCost(size_t keyLen);
  static uint64_t nodeBytes(size_t keyLen);

 private:
  void grow();

  unsigned shardBits_;
  unsigned bits_ = 4;
  std::vector<Entry*> buckets_;
  size_t size_ = 0;
  uint64_t entryBytes_ = 0;
};

}  // namespace ember::kv
