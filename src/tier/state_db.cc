#include "tier/state_db.h"

#include <cstring>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace ember::tier {

namespace {

// Key spaces inside the one column family.
constexpr char kDirty = 'd';
constexpr char kClean = 'c';
constexpr char kMapping = 'm';
constexpr char kPin = 'p';
constexpr char kJob = 'j';
const std::string kSeqKey = "s";

void putU64(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}

bool getU64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) {
    return false;
  }
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

void putStr(std::string& out, std::string_view s) {
  putU64(out, s.size());
  out.append(s);
}

bool getStr(std::string_view& in, std::string& s) {
  uint64_t n = 0;
  if (!getU64(in, n) || in.size() < n) {
    return false;
  }
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// Value formats start with a version byte so they can grow.
std::string encodeDirty(const DirtyEntry& e) {
  std::string v(1, '\1');
  v.push_back(static_cast<char>(e.op));
  putU64(v, e.seq);
  putU64(v, e.uploadedSeq);
  putU64(v, e.size);
  putU64(v, static_cast<uint64_t>(e.dirtySinceMs));
  return v;
}

bool decodeDirty(std::string_view v, DirtyEntry& e) {
  if (v.size() < 2 || v[0] != '\1') {
    return false;
  }
  e.op = static_cast<Op>(v[1]);
  if (e.op != Op::kPut && e.op != Op::kDelete) {
    return false;
  }
  v.remove_prefix(2);
  uint64_t since = 0;
  bool ok = getU64(v, e.seq) && getU64(v, e.uploadedSeq) && getU64(v, e.size) && getU64(v, since);
  e.dirtySinceMs = static_cast<int64_t>(since);
  return ok;
}

std::string encodeClean(const CleanEntry& c) {
  std::string v(1, '\1');
  putStr(v, c.versionId);
  putStr(v, c.coldEtag);
  putU64(v, static_cast<uint64_t>(c.validatedMs));
  return v;
}

bool decodeClean(std::string_view v, CleanEntry& c) {
  if (v.empty() || v[0] != '\1') {
    return false;
  }
  v.remove_prefix(1);
  uint64_t at = 0;
  bool ok = getStr(v, c.versionId) && getStr(v, c.coldEtag) && getU64(v, at);
  c.validatedMs = static_cast<int64_t>(at);
  return ok;
}

std::string spaced(char space, std::string_view k) {
  std::string s(1, space);
  s.append(k);
  return s;
}

Status fromRocks(const rocksdb::Status& s, const char* what) {
  if (s.ok()) {
    return Status::ok();
  }
  return makeError(Code::kIOError, std::string("tier state ") + what + ": " + s.ToString());
}

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

std::string tierKey(std::string_view bucket, std::string_view key) {
  std::string k(bucket);
  k.push_back('\0');
  k.append(key);
  return k;
}

std::pair<std::string_view, std::string_view> splitTierKey(std::string_view tk) {
  size_t nul = tk.find('\0');
  if (nul == std::string_view::npos) {
    return {tk, {}};
  }
  return {tk.substr(0, nul), tk.substr(nul + 1)};
}

StateDb::~StateDb() = default;

Result<std::unique_ptr<StateDb>> StateDb::open(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 2;
  o.max_total_wal_size = 64u << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  if (!s.ok()) {
    return unexpected(fromRocks(s, "open"));
  }
  std::unique_ptr<StateDb> db(new StateDb());
  db->db_.reset(raw);
  std::string v;
  s = raw->Get(rocksdb::ReadOptions(), kSeqKey, &v);
  if (s.ok()) {
    std::string_view in(v);
    uint64_t hw = 0;
    if (!getU64(in, hw)) {
      return unexpected(Code::kCorruption, "tier state: bad sequence record");
    }
    db->seqHighWater_ = hw;
  } else if (!s.IsNotFound()) {
    return unexpected(fromRocks(s, "read"));
  }
  return db;
}

Status StateDb::write(std::string_view key, std::optional<std::string_view> value, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = value ? db_->Put(wo, slice(key), slice(*value)) : db_->Delete(wo, slice(key));
  return fromRocks(s, "write");
}

Status StateDb::putDirty(std::string_view tk, const DirtyEntry& e, uint64_t seqHighWater) {
  rocksdb::WriteBatch b;
  b.Put(slice(spaced(kDirty, tk)), encodeDirty(e));
  if (seqHighWater > seqHighWater_) {
    std::string v;
    putU64(v, seqHighWater);
    b.Put(kSeqKey, v);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  EMBER_TRY(fromRocks(db_->Write(wo, &b), "write"));
  // Callers serialize per key, not globally: keep the largest value seen. (A smaller value may
  // land on disk after a larger one; recovery takes the maximum over the entries too.)
  uint64_t seen = seqHighWater_.load();
  while (seqHighWater > seen && !seqHighWater_.compare_exchange_weak(seen, seqHighWater)) {
  }
  return Status::ok();
}

Status StateDb::eraseDirty(std::string_view tk) {
  return write(spaced(kDirty, tk), std::nullopt, true);
}

Status StateDb::markClean(std::string_view tk, const CleanEntry& c) {
  rocksdb::WriteBatch b;
  b.Delete(slice(spaced(kDirty, tk)));
  b.Put(slice(spaced(kClean, tk)), encodeClean(c));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return fromRocks(db_->Write(wo, &b), "write");
}

Status StateDb::forEachDirty(const std::function<void(std::string_view, const DirtyEntry&)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string start(1, kDirty);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    DirtyEntry e;
    std::string_view v(it->value().data(), it->value().size());
    if (!decodeDirty(v, e)) {
      return makeError(Code::kCorruption, "tier state: bad write-back queue entry");
    }
    fn(std::string_view(it->key().data() + 1, it->key().size() - 1), e);
  }
  return fromRocks(it->status(), "scan");
}

Result<std::optional<CleanEntry>> StateDb::getClean(std::string_view tk) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), slice(spaced(kClean, tk)), &v);
  if (s.IsNotFound()) {
    return std::optional<CleanEntry>();
  }
  EMBER_TRY(fromRocks(s, "read"));
  CleanEntry c;
  if (!decodeClean(v, c)) {
    return unexpected(Code::kCorruption, "tier state: bad clean-copy record");
  }
  return std::optional<CleanEntry>(std::move(c));
}

Status StateDb::putClean(std::string_view tk, const CleanEntry& c) {
  return write(spaced(kClean, tk), encodeClean(c), false);
}

Status StateDb::eraseClean(std::string_view tk) {
  return write(spaced(kClean, tk), std::nullopt, false);
}

Status StateDb::putPin(std::string_view id, std::string_view value) {
  return write(spaced(kPin, id), value, true);
}

Status StateDb::erasePin(std::string_view id) { return write(spaced(kPin, id), std::nullopt, true); }

Status StateDb::forEachPin(const std::function<void(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string start(1, kPin);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    fn(std::string_view(it->key().data() + 1, it->key().size() - 1),
       std::string_view(it->value().data(), it->value().size()));
  }
  return fromRocks(it->status(), "scan");
}

Result<std::optional<std::string>> StateDb::getMapping(std::string_view id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), slice(spaced(kMapping, id)), &v);
  if (s.IsNotFound()) {
    return std::optional<std::string>();
  }
  EMBER_TRY(fromRocks(s, "read"));
  return std::optional<std::string>(std::move(v));
}

Status StateDb::putMapping(std::string_view id, std::string_view location) {
  return write(spaced(kMapping, id), location, true);
}

Status StateDb::putJob(std::string_view id, std::string_view record) {
  return write(spaced(kJob, id), record, true);
}

Status StateDb::eraseJob(std::string_view id) { return write(spaced(kJob, id), std::nullopt, true); }

Status StateDb::forEachJob(
    const std::function<void(std::string_view id, std::string_view record)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string start(1, kJob);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    fn(std::string_view(it->key().data() + 1, it->key().size() - 1),
       std::string_view(it->value().data(), it->value().size()));
  }
  return fromRocks(it->status(), "scan");
}

}  // namespace ember::tier
