#include "kv/index.h"

#include <new>

namespace ember::kv {

Index::Index(unsigned shardBits) : shardBits_(shardBits), buckets_(size_t{1} << bits_, nullptr) {}

Index::~Index() { clear(); }

uint64_t Index::nodeBytes(size_t keyLen) {
  // glibc malloc: 8-byte header, 16-byte granularity.
  return (sizeof(Entry) + keyLen + 8 + 15) & ~uint64_t{15};
}

uint64_t Index::entryCost(size_t keyLen) {
  // The bucket array holds between one and two pointers per entry (it doubles at load 1).
  return nodeBytes(keyLen) + 2 * sizeof(Entry*);
}

Entry* Index::insert(uint64_t hash, std::string_view key) {
  if (size_ >= buckets_.size() && bits_ + shardBits_ < 62) {
    grow();
  }
  void* mem = ::operator new(sizeof(Entry) + key.size());
  auto* e = new (mem) Entry();
  e->hash = hash;
  e->keyLen = static_cast<uint16_t>(key.size());
  if (!key.empty()) {
    __builtin_memcpy(reinterpret_cast<char*>(e + 1), key.data(), key.size());
  }
  Entry*& head = buckets_[bucketOf(hash)];
  e->next = head;
  head = e;
  ++size_;
  entryBytes_ += nodeBytes(key.size());
  return e;
}

void Index::remove(Entry* e) {
  Entry** link = &buckets_[bucketOf(e->hash)];
  while (*link != e) {
    link = &(*link)->next;
  }
  *link = e->next;
  --size_;
  entryBytes_ -= nodeBytes(e->keyLen);
  e->~Entry();
  ::operator delete(e);
}

void Index::clear() {
  for (Entry*& head : buckets_) {
    while (head != nullptr) {
      Entry* e = head;
      head = e->next;
      e->~Entry();
      ::operator delete(e);
    }
  }
  size_ = 0;
  entryBytes_ = 0;
}

void Index::grow() {
  std::vector<Entry*> old(size_t{1} << (bits_ + 1), nullptr);
  old.swap(buckets_);
  ++bits_;
  for (Entry* head : old) {
    while (head != nullptr) {
      Entry* e = head;
      head = e->next;
      Entry*& dst = buckets_[bucketOf(e->hash)];
      e->next = dst;
      dst = e;
    }
  }
}

}  // namespace ember::kv
