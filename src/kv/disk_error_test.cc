// Write errors: when the log cannot grow, writes fail with nothing applied and recover once it can.
// RLIMIT_FSIZE stands in for a full disk (pwrite past it fails with EFBIG, a kIOError).

#include <signal.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "kv/engine.h"
#include "kv/test_util.h"

namespace ember::kv {
namespace {

using namespace ember::kv::testing;

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    struct rlimit r = saved_;
    r.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() { lift(); }
  void lift() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  struct rlimit saved_ {};
};

TEST(KvDiskError, WritesFailWholeAndResumeAfterTheErrorClears) {
  TempDir dir;
  auto o = smallOptions(dir.path());
  o.shards = 1;
  o.durability = Durability::kNone;
  o.tailBufferBytes = 16 << 10;
  o.segmentBytes = 4 << 20;
  auto e = openOrDie(o);
  std::vector<std::string> ok;
  Status failed;
  {
    FileSizeLimit limit(256 << 10);
    for (int i = 0; i < 2000; ++i) {
      std::string k = "k" + std::to_string(i);
      Status s = set(*e, k, valueFor(k, 0, 1000));
      if (!s) {
        failed = s;
        EXPECT_FALSE(get(*e, k)) << "a failed write was applied";
        break;
      }
      ok.push_back(k);
    }
    ASSERT_FALSE(failed.isOk()) << "the file size limit was never hit";
    EXPECT_EQ(failed.code(), Code::kIOError) << failed.toString();
    // Still refused while the error lasts; reads of acknowledged writes still work (from RAM).
    std::string_view keys[2] = {"x", "y"};
    EXPECT_FALSE(e->update(keys, [](Txn& t) {
      t.put(0, "x", kNoExpiry);
      t.put(1, "y", kNoExpiry);
    }, nullptr));
    EXPECT_FALSE(get(*e, "x"));
    for (const auto& k : ok) {
      ASSERT_EQ(get(*e, k), valueFor(k, 0, 1000)) << k;
    }
    limit.lift();
    Status s;
    for (int i = 0; i < 500; ++i) {  // the flusher retries every batchIntervalMs
      s = set(*e, "after", "v");
      if (s) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(s) << s.toString();
  }
  e.reset();
  e = openOrDie(o);
  EXPECT_EQ(e->size(), ok.size() + 1);
  for (const auto& k : ok) {
    ASSERT_EQ(get(*e, k), valueFor(k, 0, 1000)) << k;
  }
  EXPECT_EQ(get(*e, "after"), "v");
}

}  // namespace
}  // namespace ember::kv
