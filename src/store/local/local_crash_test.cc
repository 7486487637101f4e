// Crash safety of the local store: a child process (fork + exec of this test binary, so that it
// starts with a clean RocksDB environment) writes to a store and dies mid-work, by SIGKILL or
// _exit() without cleanup. The parent then opens the store (running recovery) and checks that
//   - every acknowledged write is there,
//   - every visible object is whole (its bytes match what its etag says they should be),
//   - no data file is left that nothing references, and no pending mark is left behind.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/local/local_store.h"
#include "store/local/local_test_util.h"
#include "store/store_test_util.h"

extern char** environ;

namespace ember::store::testing {
namespace {

constexpr const char* kDirEnv = "EMBER_STORE_CRASH_DIR";
constexpr const char* kModeEnv = "EMBER_STORE_CRASH_MODE";
constexpr int kChildFd = 100;  // the child's end of the report pipe
constexpr size_t kMultipartA = 200000;
constexpr size_t kMultipartB = 777;

// --- child side ---

void say(const std::string& line) {
  std::string l = line + "\n";
  if (::write(kChildFd, l.data(), l.size()) < 0) {
    ::_exit(3);
  }
}

[[noreturn]] void die(const std::string& what, const Status& s) {
  say("E " + what + ": " + s.toString());
  ::_exit(2);
}

void check(const Status& s, const std::string& what) {
  if (!s) {
    die(what, s);
  }
}

std::string etagFor(size_t size, uint64_t seed) {
  return std::to_string(size) + ":" + std::to_string(seed);
}

// Keeps writing until killed: small, inline-threshold-crossing and multi-MiB objects over a
// rotating set of 40 keys (so overwrites and reclaims happen), and now and then a multipart upload.
[[noreturn]] void childPuts(LocalStore& store) {
  Status b = store.createBucket(makeBucket("crash"));
  if (!b && b.code() != Code::kAlreadyExists) {
    die("createBucket", b);
  }
  static const size_t kSizes[] = {0, 100, 5000, 70000, (1u << 20) + 3, 3u << 20};
  uint64_t base = static_cast<uint64_t>(::getpid()) * 100000;
  for (uint64_t i = 0;; ++i) {
    uint64_t seed = base + i;
    std::string key = "k" + std::to_string(i % 40);
    if (i % 9 == 4) {
      std::string id = "crash-upload-" + std::to_string(seed);
      id.resize(40, '0');
      check(store.createUpload(makeUpload("crash", key, id)), "createUpload");
      say("B " + key);
      auto p1 = writePart(store, 1, patternBytes(kMultipartA, seed));
      auto p2 = writePart(store, 2, patternBytes(kMultipartB, seed + 1));
      if (!p1 || !p2) {
        die("writePart", p1 ? p2.error() : p1.error());
      }
      check(store.putPart(id, *p1), "putPart");
      check(store.putPart(id, *p2), "putPart");
      ObjectRecord r = makeRecord("crash", key, {p1->extent, p2->extent}, "mp:" +
                                                                              std::to_string(seed));
      r.partSizes = {kMultipartA, kMultipartB};
      check(store.completeUpload(id, r, nullptr), "completeUpload");
    } else {
      size_t size = kSizes[i % 6];
      if (size > 64 * 1024) {
        say("B " + key);
      }
      check(putBytes(store, "crash", key, patternBytes(size, seed), etagFor(size, seed)), "put");
    }
    say("A " + key);
  }
}

// Leaves every kind of uncommitted file behind, then exits without running any destructor.
[[noreturn]] void childExit(LocalStore& store) {
  check(store.createBucket(makeBucket("crash")), "createBucket");
  check(putBytes(store, "crash", "committed", patternBytes(2u << 20, 1), etagFor(2u << 20, 1)),
        "put");
  const std::string id = "crash-exit-upload-0000000000000000000000000";
  check(store.createUpload(makeUpload("crash", "mp", id)), "createUpload");
  auto part = writePart(store, 1, patternBytes(300000, 2));
  if (!part) {
    die("writePart", part.error());
  }
  check(store.putPart(id, *part), "putPart");
  // A part that was written but never put, a finished but uncommitted object, a writer in
  // the middle of its run, and an overwrite whose old version is pinned by a reader.
  auto orphanPart = writePart(store, 2, patternBytes(300000, 3));
  auto finished = writeBytes(store, patternBytes(1u << 20, 4));
  if (!orphanPart || !finished) {
    die("write", orphanPart ? finished.error() : orphanPart.error());
  }
  auto w = store.newWriter();
  if (!w) {
    die("newWriter", w.error());
  }
  std::string chunk = patternBytes(1u << 20, 5);
  for (int i = 0; i < 3; ++i) {
    check((*w)->append(chunk), "append");
  }
  auto reader = store.openObject("crash", "committed");
  if (!reader) {
    die("openObject", reader.error());
  }
  check(putBytes(store, "crash", "committed", patternBytes(1u << 20, 6), etagFor(1u << 20, 6)),
        "overwrite");
  say("X");
  ::_exit(0);
}

TEST(LocalStoreCrashChild, Run) {
  const char* dir = std::getenv(kDirEnv);
  const char* mode = std::getenv(kModeEnv);
  if (dir == nullptr || mode == nullptr) {
    GTEST_SKIP() << "only runs as the child of a crash test";
  }
  auto store = LocalStore::open(testOptions(dir));
  if (!store) {
    die("open", store.error());
  }
  if (std::string(mode) == "puts") {
    childPuts(**store);
  }
  childExit(**store);
}

// --- parent side ---

class Child {
 public:
  Child(const std::string& mode, const std::string& dir) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::abort();
    }
    // Everything the child needs is prepared before fork(): between fork and exec only
    // async-signal-safe calls are allowed (the parent has RocksDB threads).
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      env.emplace_back(*e);
    }
    env.push_back(std::string(kDirEnv) + "=" + dir);
    env.push_back(std::string(kModeEnv) + "=" + mode);
    std::vector<char*> envp;
    for (std::string& e : env) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter = "--gtest_filter=LocalStoreCrashChild.Run";
    char* argv[] = {exe.data(), filter.data(), nullptr};
    pid_ = ::fork();
    if (pid_ < 0) {
      std::abort();
    }
    if (pid_ == 0) {
      ::dup2(fds[1], kChildFd);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::execve(exe.c_str(), argv, envp.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill();
    }
    ::close(fd_);
  }

  // Next line from the child; "" on EOF or after 60 s of silence.
  std::string readLine() {
    std::string line;
    while (true) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 60000) <= 0) {
        return "";
      }
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) {
        return "";
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  void kill() {
    ::kill(pid_, SIGKILL);
    wait();
  }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// Every visible object must be whole; returns the listed keys.
std::set<std::string> verifyObjects(ObjectStore& store) {
  std::set<std::string> keys;
  for (const std::string& key : listKeys(store, "crash")) {
    keys.insert(key);
    auto reader = store.openObject("crash", key);
    EXPECT_TRUE(static_cast<bool>(reader)) << key << ": " << describe(reader);
    if (!reader) {
      continue;
    }
    const std::string& etag = (*reader)->record().etag;
    std::string expect;
    if (etag.rfind("mp:", 0) == 0) {
      uint64_t seed = std::stoull(etag.substr(3));
      expect = patternBytes(kMultipartA, seed) + patternBytes(kMultipartB, seed + 1);
    } else {
      size_t colon = etag.find(':');
      expect = patternBytes(std::stoull(etag.substr(0, colon)),
                            std::stoull(etag.substr(colon + 1)));
    }
    auto data = readAllBytes(**reader, 1u << 20);
    EXPECT_TRUE(data && *data == expect) << key << " (" << etag << ") is not whole";
  }
  return keys;
}

void verifyNoLeftovers(LocalStore& store, const std::string& dir) {
  store.reclaimNow();
  EXPECT_EQ(dataFiles(dir), referencedFiles(store)) << "orphan or missing data files";
  auto marks = store.pendingMarkCountForTest();
  STORE_ASSERT_OK(marks);
  EXPECT_EQ(*marks, 0u);
}

TEST(LocalStoreCrashTest, KilledMidWriteLosesNothingAcknowledgedAndLeaksNothing) {
  TempDir dir;
  std::set<std::string> acked;
  for (int round = 0; round < 4; ++round) {
    {
      Child child("puts", dir.path());
      int acks = 0;
      // Let it get going, then kill it shortly after it starts a large write.
      while (true) {
        std::string line = child.readLine();
        ASSERT_FALSE(line.empty()) << "child stopped talking";
        ASSERT_NE(line[0], 'E') << line;
        if (line[0] == 'A') {
          acked.insert(line.substr(2));
          ++acks;
        } else if (line[0] == 'B' && acks >= 15) {
          std::this_thread::sleep_for(std::chrono::microseconds(700 * round));
          break;
        }
      }
      child.kill();
    }
    auto store = LocalStore::open(testOptions(dir.path()));
    STORE_ASSERT_OK(store);
    std::set<std::string> visible = verifyObjects(**store);
    for (const std::string& key : acked) {
      EXPECT_EQ(visible.count(key), 1u) << "acknowledged " << key << " is missing";
    }
    verifyNoLeftovers(**store, dir.path());
  }
}

TEST(LocalStoreCrashTest, ExitWithoutCleanupLeavesOnlyCommittedFiles) {
  TempDir dir;
  {
    Child child("exit", dir.path());
    std::string line = child.readLine();
    ASSERT_EQ(line, "X");
    int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // Before recovery: the committed object, its pinned old version, the committed part, and three
  // uncommitted files (unput part, finished writer, writer mid-run).
  EXPECT_EQ(dataFiles(dir.path()).size(), 6u);
  auto store = LocalStore::open(testOptions(dir.path()));
  STORE_ASSERT_OK(store);
  EXPECT_EQ(dataFiles(dir.path()).size(), 2u) << "recovery keeps the new version and the part";
  auto data = readObject(**store, "crash", "committed");
  STORE_ASSERT_OK(data);
  EXPECT_EQ(*data, patternBytes(1u << 20, 6));
  auto parts = (*store)->listParts("crash-exit-upload-0000000000000000000000000", 0, 10);
  STORE_ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 1u);
  verifyNoLeftovers(**store, dir.path());
}

}  // namespace
}  // namespace ember::store::testing
