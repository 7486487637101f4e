// Object operations of the namespace core: put, read, head, delete, copy.
#include <chrono>
#include <cstring>

#include "common/time_util.h"
#include "core/lease.h"
#include "core/namespace.h"
#include "core/small_body.h"

namespace ember::core {

namespace {

// Hashers for one body, used only from the blocking pool (one step at a time).
struct BodyHashers {
  std::unique_ptr<Hasher> md5 = Hasher::create(ChecksumAlgo::kMD5);
  std::map<ChecksumAlgo, std::unique_ptr<Hasher>> sums;

  explicit BodyHashers(const std::set<ChecksumAlgo>& algos) {
    for (ChecksumAlgo a : algos) {
      sums.emplace(a, Hasher::create(a));
    }
  }
  void update(std::span<const char> data) {
    md5->update(data);
    for (auto& [a, h] : sums) {
      h->update(data);
    }
  }
  Digests finish(uint64_t size) {
    Digests d;
    d.size = size;
    d.md5 = md5->finish();
    for (auto& [a, h] : sums) {
      d.sums.emplace(a, h->finish());
    }
    return d;
  }
};

// The stored checksums: the digests of the algorithms in `keep`.
StringPairs checksumPairs(const Digests& d, const std::set<ChecksumAlgo>& keep) {
  StringPairs out;
  for (const auto& [a, raw] : d.sums) {
    if (keep.contains(a)) {
      out.emplace_back(std::string(checksumName(a)), base64Encode(raw));
    }
  }
  return out;
}

std::set<ChecksumAlgo> unite(std::set<ChecksumAlgo> a, const std::set<ChecksumAlgo>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

}  // namespace

asio::awaitable<Result<Namespace::Written>> Namespace::writeBody(
    ByteSource& body, std::set<ChecksumAlgo> sums, std::optional<uint64_t> expectedSize,
    uint64_t maxSize) {
  if (expectedSize && *expectedSize > maxSize) {
    co_return unexpected(Code::kEntityTooLarge, "Your proposed upload exceeds the maximum "
                                                "allowed object size.");
  }
  auto writer = co_await offload(pool_, [this] { return store_->newWriter(); });
  EMBER_CO_TRY(writer);
  std::shared_ptr<store::DataWriter> w(std::move(*writer));
  auto result = co_await streamInto(body, w, std::move(sums), expectedSize, maxSize);
  if (!result) {
    // The client went away, sent too much or too little, or the disk is full: drop the partial
    // file now rather than at the store's next call.
    co_await offload(pool_, [w] { w->abort(); });
  }
  co_return result;
}

asio::awaitable<Result<Namespace::Written>> Namespace::streamInto(
    ByteSource& body, std::shared_ptr<store::DataWriter> w, std::set<ChecksumAlgo> sums,
    std::optional<uint64_t> expectedSize, uint64_t maxSize) {
  auto hashers = std::make_shared<BodyHashers>(sums);
  const size_t chunk = options_.ioChunkBytes;
  std::vector<char> buf(expectedSize ? std::min<uint64_t>(*expectedSize + 1, chunk) : chunk);
  uint64_t total = 0;
  size_t filled = 0;
  for (;;) {
    auto n = co_await body.read(std::span<char>(buf.data() + filled, buf.size() - filled));
    EMBER_CO_TRY(n);
    filled += *n;
    total += *n;
    if (total > maxSize) {
      co_return unexpected(Code::kEntityTooLarge, "Your proposed upload exceeds the maximum "
                                                  "allowed size.");
    }
    bool eof = *n == 0;
    if (!eof && filled < buf.size()) {
      continue;
    }
    if (filled > 0) {
      // Hash and write on the pool so the network thread never spends CPU on a large body.
      Status s = co_await offload(pool_, [w, hashers, &buf, filled]() -> Status {
        std::span<const char> data(buf.data(), filled);
        hashers->update(data);
        return w->append(data);
      });
      EMBER_CO_TRY(s);
      filled = 0;
      if (buf.size() < chunk && !eof) {
        buf.resize(chunk);
      }
    }
    if (eof) {
      break;
    }
  }
  if (expectedSize && total != *expectedSize) {
    co_return unexpected(Code::kIncompleteBody, "You did not provide the number of bytes "
                                                "specified by the Content-Length HTTP header.");
  }
  auto done = co_await offload(pool_, [w, hashers, total]() -> Result<Written> {
    auto extent = w->finish();
    EMBER_TRY(extent);
    return Written{std::move(*extent), hashers->finish(total)};
  });
  co_return done;
}

namespace {

// The record for a verified body, ready to commit. `in` is consumed.
ObjectRecord recordFor(PutInput& in, store::Extent extent, const Digests& digests) {
  ObjectRecord rec;
  rec.bucket = std::move(in.bucket);
  rec.key = std::move(in.key);
  rec.size = digests.size;
  rec.etag = hexEncode(digests.md5);
  rec.mtimeMs = nowMillis();
  rec.createdMs = rec.mtimeMs;
  rec.kind = in.kind;
  rec.contentMd5 = in.contentMd5.empty() ? base64Encode(digests.md5) : std::move(in.contentMd5);
  rec.owner = std::move(in.owner);
  rec.content = std::move(in.content);
  rec.userMeta = std::move(in.userMeta);
  rec.checksums = checksumPairs(digests, in.checksums);
  if (!rec.checksums.empty()) {
    rec.checksumType = "FULL_OBJECT";
  }
  if (rec.size > 0) {
    rec.extents.push_back(std::move(extent));
  }
  rec.versionId = newId();
  return rec;
}

// The commit check of a PUT: the adapter's own (Blob: Azure conditions and leases), or the
// S3-style write conditions.
store::CommitCheck putCheck(const PutInput& in) {
  if (in.check) {
    return in.check;
  }
  return [cond = in.conditions](const ObjectRecord* cur) {
    return checkWriteConditions(cond, cur);
  };
}

// Commits `rec` under `check`; returns it without inline bytes.
Result<ObjectRecord> commitPut(store::ObjectStore& store, ObjectRecord rec,
                               const store::CommitCheck& check) {
  ObjectRecord copy = rec;
  copy.extents.clear();  // the caller does not need inline bytes back
  Status s = store.putObject(std::move(rec), check);
  EMBER_TRY(s);
  return copy;
}

}  // namespace

asio::awaitable<Result<ObjectRecord>> Namespace::putObject(PutInput in, ByteSource& body) {
  EMBER_CO_TRY(validateKey(in.key));
  EMBER_CO_TRY(co_await requireBucket(in.bucket));
  std::set<ChecksumAlgo> algos = unite(in.checksums, in.verifyOnly);
  if (in.expectedSize && *in.expectedSize <= options_.ioChunkBytes) {
    // Small body: receive it whole (bounded by ioChunkBytes), then hash, write, verify and commit
    // in one trip to the blocking pool instead of one per step.
    Status unused;  // a declared size: an overlong body is kIncompleteBody
    auto received = co_await readSmallBody(body, in.expectedSize, *in.expectedSize, std::move(unused));
    EMBER_CO_TRY(received);
    std::string data = std::move(*received);
    co_return co_await offload(pool_, [this, in = std::move(in), data = std::move(data),
                                       algos]() mutable -> Result<ObjectRecord> {
      BodyHashers hashers(algos);
      hashers.update(data);
      Digests digests = hashers.finish(data.size());
      if (in.verify) {
        EMBER_TRY(in.verify(digests));
      }
      auto w = store_->newWriter();
      EMBER_TRY(w);
      Status appended = (*w)->append(data);
      auto extent = appended ? (*w)->finish() : Result<store::Extent>(unexpected(appended));
      if (!extent) {
        (*w)->abort();
        return unexpected(extent.error());
      }
      store::CommitCheck check = putCheck(in);
      return commitPut(*store_, recordFor(in, std::move(*extent), digests), check);
    });
  }
  auto written = co_await writeBody(body, algos, in.expectedSize, options_.maxPutSize);
  EMBER_CO_TRY(written);
  if (in.verify) {
    EMBER_CO_TRY(in.verify(written->digests));
  }
  store::CommitCheck check = putCheck(in);
  ObjectRecord rec = recordFor(in, std::move(written->extent), written->digests);
  co_return co_await offload(pool_, [this, rec = std::move(rec), check]() mutable {
    return commitPut(*store_, std::move(rec), check);
  });
}

asio::awaitable<Result<ReadHandle>> Namespace::openRead(ReadInput in) {
  // Hot objects are answered on this thread from the index's memory; only a miss that needs the
  // disk pays the hop to the blocking pool.
  auto reader = store_->tryOpenObjectCached(in.bucket, in.key);
  if (!reader && reader.error().code() == Code::kBusy) {
    reader = co_await offload(pool_, [this, &in] { return store_->openObject(in.bucket, in.key); });
  }
  ReadHandle h;
  if (tier_ && tier_->keyMapped(in.bucket, in.key)) {
    auto mapped = co_await openMapped(in, std::move(reader));
    EMBER_CO_TRY(mapped);
    h = std::move(*mapped);
  } else {
    EMBER_CO_TRY(reader);
    h.reader = std::move(*reader);
  }
  const ObjectRecord& rec = h.record();
  h.partsCount = static_cast<uint32_t>(rec.partSizes.size());
  EMBER_CO_TRY(checkReadConditions(in.conditions, rec));
  h.offset = 0;
  h.length = rec.size;
  if (in.partNumber) {
    uint32_t pn = *in.partNumber;
    if (rec.partSizes.empty()) {
      if (pn != 1) {
        co_return unexpected(Code::kInvalidPartNumber,
                             "The requested partnumber is not satisfiable");
      }
      h.partial = false;
    } else {
      if (pn < 1 || pn > rec.partSizes.size()) {
        co_return unexpected(Code::kInvalidPartNumber,
                             "The requested partnumber is not satisfiable");
      }
      for (uint32_t i = 0; i + 1 < pn; ++i) {
        h.offset += rec.partSizes[i];
      }
      h.length = rec.partSizes[pn - 1];
      h.partial = true;
    }
  } else if (in.range) {
    auto r = parseRange(*in.range, rec.size);
    EMBER_CO_TRY(r);
    if (*r) {
      h.offset = (*r)->first;
      h.length = (*r)->length;
      h.partial = true;
    }
  }
  if (h.async) {
    h.async->setWindow(h.offset, h.length);
  }
  co_return h;
}

asio::awaitable<Result<ReadHandle>> Namespace::openMapped(
    ReadInput& in, Result<std::unique_ptr<store::ObjectReader>> reader) {
  ReadHandle h;
  if (reader) {
    ObjectRecord warm = (*reader)->record();
    auto shown = co_await tier_->onWarmHit(std::move(warm));
    if (shown) {
      h.reader = std::move(*reader);
      h.shown = std::move(*shown);
      co_return h;
    }
    if (shown.error().code() != Code::kNoSuchKey) {
      co_return unexpected(shown.error());
    }
    reader = unexpected(shown.error());  // the warm copy was stale and is gone: read from cold
  }
  if (reader.error().code() != Code::kNoSuchKey) {
    co_return unexpected(reader.error());
  }
  auto cold = co_await tier_->openCold(in.bucket, in.key);
  EMBER_CO_TRY(cold);
  h.async = cold->get();
  h.reader = std::move(*cold);
  co_return h;
}

asio::awaitable<Status> Namespace::streamRead(ReadHandle& h, ByteSink& sink) {
  if (h.async) {
    // Read through from cold: chunks arrive as the tier fetches them.
    std::vector<char> buf(std::min<uint64_t>(std::max<uint64_t>(h.length, 1), options_.ioChunkBytes));
    uint64_t pos = h.offset;
    uint64_t end = h.offset + h.length;
    while (pos < end) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
      auto n = co_await h.async->readAsync(pos, std::span<char>(buf.data(), want));
      EMBER_CO_TRY(n);
      if (*n == 0) {
        co_return makeError(Code::kIncompleteBody, "the cold object ended early");
      }
      EMBER_CO_TRY(co_await sink.write(std::span<const char>(buf.data(), *n)));
      pos += *n;
    }
    co_return Status::ok();
  }
  const ObjectRecord& rec = h.record();
  bool allInline = true;
  for (const auto& e : rec.extents) {
    allInline = allInline && e.kind == store::Extent::Kind::kInline;
  }
  std::vector<char> buf(std::min<uint64_t>(h.length, options_.ioChunkBytes));
  uint64_t pos = h.offset;
  uint64_t end = h.offset + h.length;
  while (pos < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
    std::span<char> span(buf.data(), want);
    Result<size_t> n;
    if (allInline) {
      n = h.reader->readAt(pos, span);  // memcpy from the record already in memory
    } else {
      // Fill the whole buffer (a read may stop at an extent boundary).
      n = co_await offload(pool_, [&h, pos, span]() -> Result<size_t> {
        size_t got = 0;
        while (got < span.size()) {
          auto r = h.reader->readAt(pos + got, span.subspan(got));
          EMBER_TRY(r);
          if (*r == 0) {
            break;
          }
          got += *r;
        }
        return got;
      });
    }
    EMBER_CO_TRY(n);
    if (*n == 0) {
      co_return makeError(Code::kCorruption, "object data shorter than its record");
    }
    EMBER_CO_TRY(co_await sink.write(std::span<const char>(buf.data(), *n)));
    pos += *n;
  }
  co_return Status::ok();
}

asio::awaitable<Result<ObjectRecord>> Namespace::headObject(std::string bucket, std::string key) {
  auto rec = co_await offload(pool_, [this, bucket, key] { return store_->getObject(bucket, key); });
  if (!tier_ || !tier_->keyMapped(bucket, key)) {
    co_return rec;
  }
  if (rec) {
    auto shown = co_await tier_->onWarmHit(std::move(*rec));
    if (shown || shown.error().code() != Code::kNoSuchKey) {
      co_return shown;
    }
  } else if (rec.error().code() != Code::kNoSuchKey) {
    co_return rec;
  }
  co_return co_await tier_->headCold(std::move(bucket), std::move(key));
}

asio::awaitable<Result<std::optional<ObjectRecord>>> Namespace::deleteObject(
    std::string bucket, std::string key, Conditions conditions, store::CommitCheck check) {
  if (!check) {
    check = [conditions](const ObjectRecord* cur) {
      if (conditions.ifMatch && cur && !etagMatches(*conditions.ifMatch, cur->etag)) {
        return makeError(Code::kPreconditionFailed, "If-Match did not match");
      }
      if (cur && leaseActive(leaseState(cur->lease, nowMillis()))) {
        return makeError(Code::kLeaseIdMissing,
                         "The object is leased through the Blob API; release the lease first.");
      }
      return Status::ok();
    };
  }
  std::optional<ObjectRecord> coldOnly;
  if (tier_ && tier_->keyMapped(bucket, key)) {
    // An object that is only in cold is still an object: the conditions see its cold record, and
    // the delete (queued by the tier's store) is written back.
    auto warm = co_await offload(pool_, [this, bucket, key] { return store_->getObject(bucket, key); });
    if (!warm && warm.error().code() == Code::kNoSuchKey) {
      auto cold = co_await tier_->headCold(bucket, key);
      if (cold) {
        coldOnly = std::move(*cold);
        check = [inner = std::move(check), rec = *coldOnly](const ObjectRecord* cur) {
          return inner(cur ? cur : &rec);
        };
      } else if (cold.error().code() != Code::kNoSuchKey) {
        co_return unexpected(cold.error());
      }
    }
  }
  auto r = co_await offload(pool_, [this, bucket, key, check] {
    return store_->deleteObject(bucket, key, check);
  });
  if (r && !*r && coldOnly) {
    *r = std::move(coldOnly);
  }
  co_return r;
}

asio::awaitable<Result<ObjectRecord>> Namespace::copyObject(CopyInput in) {
  EMBER_CO_TRY(validateKey(in.dst.key));
  EMBER_CO_TRY(co_await requireBucket(in.dst.bucket));
  ReadInput rin{in.srcBucket, in.srcKey, {}, {}, {}};
  auto src = co_await openRead(rin);
  EMBER_CO_TRY(src);
  const ObjectRecord& srec = src->record();
  Status cond = checkReadConditions(in.srcConditions, srec);
  if (cond.code() == Code::kNotModified) {
    cond = makeError(Code::kPreconditionFailed, cond.message());  // copy answers 412, not 304
  }
  EMBER_CO_TRY(cond);
  if (in.srcBucket == in.dst.bucket && in.srcKey == in.dst.key &&
      in.directive == MetadataDirective::kCopy) {
    co_return unexpected(Code::kInvalidRequest,
                         "This copy request is illegal because it is trying to copy an object to "
                         "itself without changing the object's metadata, storage class, website "
                         "redirect location or encryption attributes.");
  }
  // Copy the bytes on the pool, chunk by chunk, hashing as we go.
  std::set<ChecksumAlgo> algos = in.dst.checksums;
  for (const auto& [name, v] : srec.checksums) {
    if (auto a = parseChecksumAlgo(name)) {
      algos.insert(*a);
    }
  }
  auto written = co_await offload(pool_, [this, &src, algos]() -> Result<Written> {
    auto w = store_->newWriter();
    EMBER_TRY(w);
    BodyHashers hashers(algos);
    std::vector<char> buf(std::min<uint64_t>(src->length, options_.ioChunkBytes));
    auto copy = [&]() -> Result<Written> {
      uint64_t pos = 0;
      while (pos < src->length) {
        auto n = src->reader->readAt(pos, std::span<char>(buf.data(), buf.size()));
        EMBER_TRY(n);
        if (*n == 0) {
          return unexpected(Code::kCorruption, "source object shorter than its record");
        }
        std::span<const char> data(buf.data(), *n);
        hashers.update(data);
        EMBER_TRY((*w)->append(data));
        pos += *n;
      }
      auto extent = (*w)->finish();
      EMBER_TRY(extent);
      return Written{std::move(*extent), hashers.finish(pos)};
    };
    auto r = copy();
    if (!r) {
      (*w)->abort();  // e.g. the volume filled up mid-copy: drop the partial file now
    }
    return r;
  });
  EMBER_CO_TRY(written);
  ObjectRecord rec;
  rec.bucket = in.dst.bucket;
  rec.key = in.dst.key;
  rec.size = written->digests.size;
  rec.etag = hexEncode(written->digests.md5);
  rec.mtimeMs = nowMillis();
  rec.createdMs = rec.mtimeMs;
  rec.kind = srec.kind;  // a copy of an append object is an append object (as in Azure)
  rec.contentMd5 = base64Encode(written->digests.md5);
  rec.owner = in.dst.owner;
  if (in.directive == MetadataDirective::kCopy) {
    rec.content = srec.content;
    rec.userMeta = srec.userMeta;
  } else {
    rec.content = in.dst.content;
    rec.userMeta = in.dst.userMeta;
  }
  rec.checksums = checksumPairs(written->digests, algos);
  if (!rec.checksums.empty()) {
    rec.checksumType = "FULL_OBJECT";
  }
  if (rec.size > 0) {
    rec.extents.push_back(std::move(written->extent));
  }
  rec.versionId = newId();
  src->reader.reset();
  store::CommitCheck check = putCheck(in.dst);
  co_return co_await offload(pool_, [this, rec = std::move(rec), check]() mutable
                             -> Result<ObjectRecord> {
    ObjectRecord copy = rec;
    copy.extents.clear();
    EMBER_TRY(store_->putObject(std::move(rec), check));
    return copy;
  });
}

}  // namespace ember::core
