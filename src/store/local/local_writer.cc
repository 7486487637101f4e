// LocalWriter: the DataWriter of the local store. Bytes are buffered in memory until they exceed
// the inline threshold; then the run "spills" to a data file:
//   1. a pending mark 'F' <id> is committed (synced) in the index,
//   2. the file is created (O_EXCL) and everything so far written to it,
//   3. finish() fdatasync()s the file and fsyncs its directory.
// Because of (1), a crash at any later point leaves a mark that recovery uses to delete the
// file, so no crash can leak an unreferenced data file. See docs/durability.md.

#include <unistd.h>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/local_internal.h"
#include "store/local/reclaimer.h"
#include "store/local/record_codec.h"

namespace ember::store::local {

class LocalWriter final : public DataWriter {
 public:
  // Appends smaller than this are gathered into one write(2).
  static constexpr size_t kWriteChunk = 1u << 20;

  LocalWriter(std::shared_ptr<LocalStore> store, bool forceFile)
      : store_(std::move(store)), forceFile_(forceFile) {}
  ~LocalWriter() override { discard(false); }
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  Status append(std::span<const char> data) override;
  Result<Extent> finish() override;
  uint64_t size() const override { return size_; }
  void abort() override { discard(true); }

 private:
  Status spill();
  Status flushBuffer();
  // Records the failure, drops the partial file, and makes every later call return `s`.
  Status fail(Status s);
  // Drops the partial file; its unlink runs now or (from the destructor, which may run on a
  // network thread) with the store's next call.
  void discard(bool reclaimNow);

  std::shared_ptr<LocalStore> store_;
  const bool forceFile_;
  std::string buffer_;
  uint64_t size_ = 0;
  std::string idRaw_;  // set once spilled
  std::string idHex_;
  int fd_ = -1;
  bool finished_ = false;
  Status failed_;
};

Status LocalWriter::append(std::span<const char> data) {
  if (!failed_) {
    return failed_;
  }
  if (finished_) {
    return makeError(Code::kInternal, "append after finish");
  }
  if (data.empty()) {
    return Status::ok();
  }
  if (fd_ < 0) {
    if (!forceFile_ && size_ + data.size() <= store_->options_.inlineThreshold) {
      buffer_.append(data.data(), data.size());
      size_ += data.size();
      return Status::ok();
    }
    if (Status s = spill(); !s) {
      return fail(std::move(s));
    }
  }
  if (Status s = store_->files_->space().reserve(data.size()); !s) {
    return fail(std::move(s));
  }
  if (buffer_.size() + data.size() > kWriteChunk) {
    if (Status s = flushBuffer(); !s) {
      return fail(std::move(s));
    }
  }
  if (data.size() >= kWriteChunk) {
    if (Status s = writeAll(fd_, data); !s) {
      return fail(std::move(s));
    }
  } else {
    buffer_.append(data.data(), data.size());
  }
  size_ += data.size();
  return Status::ok();
}

Status LocalWriter::spill() {
  if (Status s = store_->files_->space().reserve(buffer_.size()); !s) {
    return s;
  }
  std::string raw = randomRawId();
  rocksdb::WriteBatch batch;
  batch.Put(store_->index_->cf(Cf::kPending), toSlice(pendingFileKey(raw)),
            rocksdb::Slice(&kFileWriting, 1))
      .PermitUncheckedError();
  // Durable before the file exists: otherwise a crash could leave a file nobody knows about.
  if (Status s = store_->index_->commit(batch); !s) {
    return s;
  }
  idRaw_ = std::move(raw);
  idHex_ = hexFromRawId(idRaw_);
  auto fd = store_->files_->create(idHex_);
  if (!fd) {
    return fd.error();
  }
  fd_ = *fd;
  buffer_.reserve(kWriteChunk);
  return Status::ok();
}

Status LocalWriter::flushBuffer() {
  if (buffer_.empty()) {
    return Status::ok();
  }
  Status s = writeAll(fd_, buffer_);
  buffer_.clear();
  return s;
}

Result<Extent> LocalWriter::finish() {
  if (!failed_) {
    return unexpected(failed_);
  }
  if (finished_) {
    return unexpected(Code::kInternal, "finish called twice");
  }
  Extent x;
  x.size = size_;
  if (fd_ < 0) {
    x.kind = Extent::Kind::kInline;
    x.data = std::move(buffer_);
    finished_ = true;
    return x;
  }
  if (Status s = flushBuffer(); !s) {
    return unexpected(fail(std::move(s)));
  }
  if (::fdatasync(fd_) != 0) {
    return unexpected(fail(errnoStatus(errno, "fdatasync " + idHex_)));
  }
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    return unexpected(fail(errnoStatus(errno, "close " + idHex_)));
  }
  // The new directory entry must be durable before a commit can reference the file.
  if (Status s = syncDirectory(store_->files_->dirFor(idHex_)); !s) {
    return unexpected(fail(std::move(s)));
  }
  finished_ = true;
  x.kind = Extent::Kind::kFile;
  x.id = idHex_;
  return x;
}

Status LocalWriter::fail(Status s) {
  discard(true);
  failed_ = s;
  return s;
}

void LocalWriter::discard(bool reclaimNow) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!finished_ && !idRaw_.empty()) {
    // The mark is durable; the reclaimer unlinks the file and then forgets the mark.
    store_->reclaimer_->dropFiles({std::move(idRaw_)}, reclaimNow);
  }
  idRaw_.clear();
  buffer_.clear();
  buffer_.shrink_to_fit();
}

std::unique_ptr<DataWriter> makeWriter(std::shared_ptr<LocalStore> store, bool forceFile) {
  return std::make_unique<LocalWriter>(std::move(store), forceFile);
}

}  // namespace ember::store::local
