#include "store/local/data_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ember::store::local {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

Status makeDirectory(const std::string& path, bool* created) {
  if (::mkdir(path.c_str(), 0755) == 0) {
    *created = true;
    return Status::ok();
  }
  if (errno == EEXIST) {
    return Status::ok();
  }
  return errnoStatus(errno, "mkdir " + path);
}

}  // namespace

Status errnoStatus(int err, std::string_view what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return makeError(Code::kInsufficientStorage, std::move(msg));
    case ENOENT:
      return makeError(Code::kNotFound, std::move(msg));
    default:
      return makeError(Code::kIOError, std::move(msg));
  }
}

Status syncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errnoStatus(errno, "open directory " + path);
  }
  Status s;
  if (::fsync(fd) != 0) {
    s = errnoStatus(errno, "fsync directory " + path);
  }
  ::close(fd);
  return s;
}

// --- SpaceGuard ---

Status SpaceGuard::refresh() {
  struct statvfs st {};
  if (::statvfs(path_.c_str(), &st) != 0) {
    return errnoStatus(errno, "statvfs " + path_);
  }
  free_ = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  consumed_ = 0;
  known_ = true;
  return Status::ok();
}

Status SpaceGuard::reserve(uint64_t bytes) {
  std::lock_guard lock(mu_);
  bool nearFloor = free_ < floor_ + consumed_ + bytes + kRecheckBytes;
  if (!known_ || consumed_ + bytes >= kRecheckBytes || nearFloor) {
    if (Status s = refresh(); !s) {
      return s;
    }
  }
  if (free_ < floor_ || free_ - floor_ < consumed_ + bytes) {
    return makeError(Code::kInsufficientStorage,
                     "data volume free space would drop below the reserve of " +
                         std::to_string(floor_) + " bytes");
  }
  consumed_ += bytes;
  return Status::ok();
}

// --- DataFiles ---

DataFiles::DataFiles(std::string dataDir, uint64_t reserveBytes)
    : dataDir_(std::move(dataDir)), root_(dataDir_ + "/data"), space_(dataDir_, reserveBytes) {}

Status DataFiles::prepare() {
  bool createdRoot = false;
  if (Status s = makeDirectory(root_, &createdRoot); !s) {
    return s;
  }
  bool createdAny = false;
  for (int i = 0; i < 256; ++i) {
    std::string dir = root_ + "/" + kHexDigits[i >> 4] + kHexDigits[i & 15];
    if (Status s = makeDirectory(dir, &createdAny); !s) {
      return s;
    }
  }
  // New directories must be durable before any file in them is acknowledged.
  if (createdAny) {
    if (Status s = syncDirectory(root_); !s) {
      return s;
    }
  }
  if (createdRoot) {
    return syncDirectory(dataDir_);
  }
  return Status::ok();
}

std::string DataFiles::dirFor(std::string_view idHex) const {
  std::string dir = root_;
  dir.push_back('/');
  dir.append(idHex.substr(0, 2));
  return dir;
}

std::string DataFiles::pathFor(std::string_view idHex) const {
  std::string path = dirFor(idHex);
  path.push_back('/');
  path.append(idHex);
  return path;
}

Result<int> DataFiles::create(std::string_view idHex) {
  std::string path = pathFor(idHex);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return unexpected(errnoStatus(errno, "create " + path));
  }
  return fd;
}

Result<int> DataFiles::openForRead(std::string_view idHex) {
  std::string path = pathFor(idHex);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Status s = errnoStatus(errno, "open " + path);
    // A committed extent whose file is missing is damage, not an absent object.
    if (s.code() == Code::kNotFound) {
      s = makeError(Code::kCorruption, s.message());
    }
    return unexpected(std::move(s));
  }
  return fd;
}

Status DataFiles::appendAt(std::string_view idHex, uint64_t offset, std::span<const char> data) {
  std::string path = pathFor(idHex);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errnoStatus(errno, "open " + path);
  }
  Status s;
  size_t done = 0;
  while (s && done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno != EINTR) {
        s = errnoStatus(errno, "pwrite " + path);
      }
      continue;
    }
    done += static_cast<size_t>(n);
  }
  if (s && ::fdatasync(fd) != 0) {
    s = errnoStatus(errno, "fdatasync " + path);
  }
  if (::close(fd) != 0 && s) {
    s = errnoStatus(errno, "close " + path);
  }
  return s;
}

Status DataFiles::remove(std::string_view idHex) {
  std::string path = pathFor(idHex);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return errnoStatus(errno, "unlink " + path);
  }
  return Status::ok();
}

Result<Capacity> DataFiles::capacity() {
  struct statvfs st {};
  if (::statvfs(dataDir_.c_str(), &st) != 0) {
    return unexpected(errnoStatus(errno, "statvfs " + dataDir_));
  }
  Capacity c;
  c.totalBytes = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  c.freeBytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  return c;
}

// --- I/O loops ---

Status writeAll(int fd, std::span<const char> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoStatus(errno, "write data file");
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status preadAll(int fd, uint64_t offset, std::span<char> buf) {
  while (!buf.empty()) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errnoStatus(errno, "read data file");
    }
    if (n == 0) {
      return makeError(Code::kCorruption, "data file shorter than its extent");
    }
    buf = buf.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::ok();
}

}  // namespace ember::store::local
