// Engine::update(): atomic read-modify-write over up to 1024 keys.
//
// The keys' shards are locked in index order; fn sees each key's state through TxnImpl; every write it
// makes is encoded straight into its shard's tail buffer (so a failure midway is undone by truncating the
// tails back) and applied to the index only after fn returns without error. Per-call scratch lives in
// thread-local vectors so a warm thread allocates nothing for small updates.

#include <algorithm>
#include <numeric>

#include "common/time_util.h"
#include "kv/engine_impl.h"

namespace ember::kv {
namespace {

constexpr size_t kMaxUpdateKeys = 1024;

struct KeyInfo {
  std::string_view key;
  uint64_t hash = 0;
  Shard* shard = nullptr;
  uint32_t canon = 0;  // the first position holding the same key
};

struct KeyState {
  Entry* entry = nullptr;  // the key's index entry (kept current while committing)
  bool existed = false;    // live when the update started
  bool present = false;    // live as the writes so far leave it
  bool pending = false;    // written by this update: the newest record is (segId, offset), in the tail
  bool loaded = false;     // `value` holds the current value
  bool quotaCounted = false;
  int64_t expireAt = 0;
  uint32_t valueLen = 0;
  uint32_t segId = 0;
  uint32_t offset = 0;
  std::string value;

  void reset() {
    entry = nullptr;
    existed = present = pending = loaded = quotaCounted = false;
    expireAt = 0;
    valueLen = segId = offset = 0;
    value.clear();
  }
};

struct Op {
  uint32_t canon;
  RecordType type;
  uint32_t segId;
  uint32_t offset;
  uint32_t valueLen;
  int64_t expireAt;
};

struct Scratch {
  std::vector<KeyInfo> keys;
  std::vector<KeyState> states;
  std::vector<Op> ops;
  std::vector<Shard*> shards;
  std::vector<LogMark> marks;
  std::vector<uint32_t> order;
  std::vector<Shard*> flush;  // shards whose tail outgrew tailBufferBytes
  std::vector<char> written;  // per entry of `shards`: whether the update wrote there
};

class TxnImpl final : public Txn {
 public:
  TxnImpl(const Shared& shared, Scratch& s, int64_t now) : shared_(shared), s_(s), now_(now) {}

  size_t size() const override { return s_.keys.size(); }
  std::string_view key(size_t i) const override { return s_.keys[i].key; }
  bool exists(size_t i) override { return state(i).present; }
  int64_t expireAt(size_t i) override {
    const KeyState& st = state(i);
    return st.present ? st.expireAt : kNoExpiry;
  }

  const std::string* value(size_t i) override {
    KeyState& st = state(i);
    if (!st.present || !status.isOk()) {
      return nullptr;
    }
    if (!st.loaded) {
      const KeyInfo& k = s_.keys[s_.keys[i].canon];
      if (st.pending) {
        const char* rec = k.shard->memoryRecord(st.segId, st.offset);
        st.value.assign(rec + kRecordHeaderBytes + k.key.size(), st.valueLen);
      } else {
        Status ls = k.shard->loadValue(st.entry, &st.value);
        if (!ls) {
          status = std::move(ls);
          return nullptr;
        }
      }
      st.loaded = true;
    }
    return &st.value;
  }

  void put(size_t i, std::string_view value, int64_t expireAtMs) override {
    if (!status.isOk()) {
      return;
    }
    if (value.size() > shared_.opt.maxValueBytes) {
      status = makeError(Code::kEntityTooLarge, "value of " + std::to_string(value.size()) +
                                                    " bytes is over the limit of " +
                                                    std::to_string(shared_.opt.maxValueBytes));
      return;
    }
    if (expireAtMs != kNoExpiry && expireAtMs <= now_) {
      erase(i);
      return;
    }
    uint32_t canon = s_.keys[i].canon;
    const KeyInfo& k = s_.keys[canon];
    KeyState& st = s_.states[canon];
    if (!st.existed && !st.quotaCounted && shared_.opt.maxIndexBytes != 0) {
      uint64_t cost = Index::entryCost(k.key.size());
      if (shared_.indexBytes.load(std::memory_order_relaxed) + newBytes_ + cost > shared_.opt.maxIndexBytes) {
        status = makeError(Code::kQuotaExceeded, "kv index is at its memory limit");
        return;
      }
      newBytes_ += cost;
      st.quotaCounted = true;
    }
    uint32_t segId = 0;
    uint32_t offset = 0;
    Status as = k.shard->append(RecordType::kPut, k.key, value, expireAtMs, &segId, &offset);
    if (!as) {
      status = std::move(as);
      return;
    }
    auto len = static_cast<uint32_t>(value.size());
    s_.ops.push_back({canon, RecordType::kPut, segId, offset, len, expireAtMs});
    st.present = st.pending = true;
    st.loaded = false;
    st.expireAt = expireAtMs;
    st.valueLen = len;
    st.segId = segId;
    st.offset = offset;
  }

  void erase(size_t i) override {
    uint32_t canon = s_.keys[i].canon;
    KeyState& st = s_.states[canon];
    if (!status.isOk() || !st.present) {
      return;
    }
    const KeyInfo& k = s_.keys[canon];
    uint32_t segId = 0;
    uint32_t offset = 0;
    Status as = k.shard->append(RecordType::kTombstone, k.key, {}, 0, &segId, &offset);
    if (!as) {
      status = std::move(as);
      return;
    }
    s_.ops.push_back({canon, RecordType::kTombstone, segId, offset, 0, 0});
    st.present = st.loaded = false;
    st.pending = true;
  }

  Status status;

 private:
  KeyState& state(size_t i) { return s_.states[s_.keys[i].canon]; }
  const KeyState& state(size_t i) const { return s_.states[s_.keys[i].canon]; }

  const Shared& shared_;
  Scratch& s_;
  int64_t now_;
  uint64_t newBytes_ = 0;
};

// Gives every key the position of its first occurrence (duplicates share one state).
void canonicalize(Scratch& s) {
  size_t n = s.keys.size();
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (s.keys[j].hash == s.keys[i].hash && s.keys[j].key == s.keys[i].key) {
          s.keys[i].canon = s.keys[j].canon;
          break;
        }
      }
    }
    return;
  }
  s.order.resize(n);
  std::iota(s.order.begin(), s.order.end(), 0u);
  std::sort(s.order.begin(), s.order.end(), [&](uint32_t a, uint32_t b) {
    const KeyInfo& x = s.keys[a];
    const KeyInfo& y = s.keys[b];
    if (x.hash != y.hash) {
      return x.hash < y.hash;
    }
    if (x.key != y.key) {
      return x.key < y.key;
    }
    return a < b;
  });
  for (size_t i = 1; i < n; ++i) {
    const KeyInfo& prev = s.keys[s.order[i - 1]];
    KeyInfo& cur = s.keys[s.order[i]];
    if (prev.hash == cur.hash && prev.key == cur.key) {
      cur.canon = prev.canon;
    }
  }
}

}  // namespace

Status EngineImpl::update(std::span<const std::string_view> keys, const std::function<void(Txn&)>& fn,
                          WriteSet* ws) {
  if (keys.size() > kMaxUpdateKeys) {
    return makeError(Code::kInvalidArgument, "an update names more than 1024 keys");
  }
  thread_local Scratch scratch;
  Scratch& s = scratch;
  s.keys.clear();
  s.ops.clear();
  s.shards.clear();
  s.marks.clear();
  s.flush.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].size() > shared_.opt.maxKeyBytes) {
      return makeError(Code::kInvalidKey, "key of " + std::to_string(keys[i].size()) +
                                              " bytes is over the limit of " +
                                              std::to_string(shared_.opt.maxKeyBytes));
    }
    uint64_t h = hashKey(keys[i]);
    Shard* shard = &shardOf(h);
    s.keys.push_back({keys[i], h, shard, static_cast<uint32_t>(i)});
    s.shards.push_back(shard);
  }
  canonicalize(s);
  std::sort(s.shards.begin(), s.shards.end(),
            [](const Shard* a, const Shard* b) { return a->index() < b->index(); });
  s.shards.erase(std::unique(s.shards.begin(), s.shards.end()), s.shards.end());

  struct Locks {
    std::vector<Shard*>& shards;
    explicit Locks(std::vector<Shard*>& v) : shards(v) {
      for (Shard* sh : shards) {
        sh->mu.lock();
      }
    }
    ~Locks() {
      for (auto it = shards.rbegin(); it != shards.rend(); ++it) {
        (*it)->mu.unlock();
      }
    }
  };
  {
    Locks locks(s.shards);
    int64_t now = nowMillis();
    if (s.states.size() < s.keys.size()) {
      s.states.resize(s.keys.size());
    }
    for (size_t i = 0; i < s.keys.size(); ++i) {
      KeyState& st = s.states[i];
      st.reset();
      const KeyInfo& k = s.keys[i];
      if (k.canon != i) {
        continue;
      }
      Entry* e = k.shard->find(k.hash, k.key);
      if (e != nullptr && e->expireAt != 0 && Shard::expired(e, now)) {
        k.shard->removeEntry(e, true);
        e = nullptr;
      }
      if (e != nullptr) {
        st.entry = e;
        st.existed = st.present = true;
        st.expireAt = e->expireAt;
        st.valueLen = e->valueLen;
      }
    }
    for (Shard* sh : s.shards) {
      s.marks.push_back(sh->mark());
    }
    TxnImpl txn(shared_, s, now);
    try {
      fn(txn);
    } catch (...) {
      for (size_t i = 0; i < s.shards.size(); ++i) {
        s.shards[i]->rollback(s.marks[i]);
      }
      throw;
    }
    if (!txn.status.isOk()) {
      for (size_t i = 0; i < s.shards.size(); ++i) {
        s.shards[i]->rollback(s.marks[i]);
      }
      return std::move(txn.status);
    }
    for (const Op& op : s.ops) {
      KeyState& st = s.states[op.canon];
      const KeyInfo& k = s.keys[op.canon];
      if (op.type == RecordType::kPut) {
        const char* rec = k.shard->memoryRecord(op.segId, op.offset);
        bool had = st.entry != nullptr;
        uint32_t prevSeg = had ? st.entry->segId : 0;
        uint32_t prevOff = had ? st.entry->offset : 0;
        st.entry = k.shard->applyPut(st.entry, k.hash, k.key, op.segId, op.offset, op.valueLen, op.expireAt,
                                     rec + kRecordHeaderBytes + k.key.size());
        if (had) {
          k.shard->coalesce(st.entry, prevSeg, prevOff);
        }
      } else {
        k.shard->applyTombstone(st.entry, op.segId, k.key.size());
        st.entry = nullptr;
      }
    }
    s.written.assign(s.shards.size(), 0);
    for (const Op& op : s.ops) {
      Shard* sh = s.keys[op.canon].shard;
      size_t pos = 0;
      while (s.shards[pos] != sh) {
        ++pos;
      }
      s.written[pos] = 1;
    }
    for (size_t i = 0; i < s.shards.size(); ++i) {
      Shard* sh = s.shards[i];
      if (s.written[i] != 0) {
        if (ws != nullptr) {
          ws->add(sh->index(), sh->appendSeq());
        }
        if (sh->tailOverLimit()) {
          s.flush.push_back(sh);
        }
      }
    }
  }
  // A tail that outgrew its bound is written out by this thread (back-pressure on heavy writers). A
  // failure is sticky in the shard and refuses later writes until a write-out succeeds.
  for (Shard* sh : s.flush) {
    sh->writeOutForWriter().ignoreError();
  }
  return Status::ok();
}

}  // namespace ember::kv
