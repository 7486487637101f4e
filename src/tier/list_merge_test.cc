#include "tier/list_merge.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include "core/namespace.h"
#include "core/tier_hooks.h"

namespace ember::tier {
namespace {

using std::chrono::milliseconds;

template <typename T>
T runCo(asio::awaitable<T> aw) {
  asio::io_context io;
  auto f = asio::co_spawn(io, std::move(aw), asio::use_future);
  io.run();
  return f.get();
}


std::string rollUp(const std::string& key, const std::string& prefix, const std::string& delim) {
  if (delim.empty()) {
    return {};
  }
  size_t pos = key.find(delim, prefix.size());
  return pos == std::string::npos ? std::string() : key.substr(0, pos + delim.size());
}

// Reference listing over a set of keys, paged as core/list.cc pages (a key equal to startAfter is
// never returned, see the report on core's `startAfter > prefix` test).
struct Page {
  std::vector<std::string> objects;
  std::vector<std::string> prefixes;
  bool truncated = false;
  std::string nextMarker;
  bool operator==(const Page&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Page& p) {
  os << "{objects:";
  for (const auto& o : p.objects) os << " '" << o << "'";
  os << " prefixes:";
  for (const auto& c : p.prefixes) os << " '" << c << "'";
  return os << " truncated=" << p.truncated << " next='" << p.nextMarker << "'}";
}

Page refList(const std::set<std::string>& keys, const core::ListInput& in) {
  Page out;
  if (in.maxKeys == 0) {
    return out;
  }
  std::string markerCp = rollUp(in.startAfter, in.prefix, in.delimiter);
  auto it = keys.end();
  if (!markerCp.empty() && in.startAfter.starts_with(in.prefix)) {
    std::string next = core::prefixSuccessor(markerCp);
    if (next.empty()) {
      return out;
    }
    it = keys.lower_bound(next);
  } else if (in.startAfter >= in.prefix) {
    it = keys.upper_bound(in.startAfter);
  } else {
    it = keys.lower_bound(in.prefix);
  }
  uint32_t count = 0;
  while (it != keys.end() && it->starts_with(in.prefix)) {
    if (count == in.maxKeys) {
      out.truncated = true;
      break;
    }
    ++count;
    std::string cp = rollUp(*it, in.prefix, in.delimiter);
    if (!cp.empty()) {
      out.prefixes.push_back(cp);
      out.nextMarker = cp;
      std::string next = core::prefixSuccessor(cp);
      it = next.empty() ? keys.end() : keys.lower_bound(next);
      continue;
    }
    out.objects.push_back(*it);
    out.nextMarker = *it;
    ++it;
  }
  if (!out.truncated) {
    out.nextMarker.clear();
  }
  return out;
}

Page toPage(const core::ListOutput& o) {
  Page p;
  for (const auto& r : o.objects) p.objects.push_back(r.key);
  p.prefixes = o.commonPrefixes;
  p.truncated = o.truncated;
  p.nextMarker = o.nextMarker;
  return p;
}

// A cold store's listing over an in-memory map, with opaque markers ("tok:" + last entry).
struct FakeCold {
  std::map<std::string, cold::ColdObjectInfo> objects;  // relative keys
  int cap = 5000;                                      // a store may return short pages
  int calls = 0;
  std::vector<std::tuple<std::string, std::string, int, std::optional<std::string>>> seen;
  std::optional<Status> fail;

  void add(const std::string& key, uint64_t size = 1) {
    objects[key] = cold::ColdObjectInfo{key, size, "etag-" + key, 1700000000000, "text/plain"};
  }
  ColdLister lister() {
    return [this](std::string prefix, std::string marker, int maxKeys,
                  std::optional<std::string> delimiter) {
      return list(this, std::move(prefix), std::move(marker), maxKeys, std::move(delimiter));
    };
  }
  static asio::awaitable<Result<cold::ColdListPage>> list(FakeCold* self, std::string prefix,
                                                          std::string marker, int maxKeys,
                                                          std::optional<std::string> delimiter) {
    ++self->calls;
    self->seen.emplace_back(prefix, marker, maxKeys, delimiter);
    if (self->fail) {
      co_return unexpected(*self->fail);
    }
    if (maxKeys < 1 || maxKeys > 5000 || (!marker.empty() && !marker.starts_with("tok:"))) {
      co_return unexpected(Code::kInvalidArgument, "bad list arguments");
    }
    const std::string pos = marker.empty() ? std::string() : marker.substr(4);
    const std::string d = delimiter.value_or("");
    cold::ColdListPage page;
    auto it = marker.empty() ? self->objects.lower_bound(prefix) : self->objects.upper_bound(pos);
    int count = 0;
    std::string last;
    while (it != self->objects.end()) {
      const std::string& key = it->first;
      if (!key.starts_with(prefix)) {
        if (key < prefix) {
          it = self->objects.lower_bound(prefix);
          continue;
        }
        break;
      }
      std::string cp = rollUp(key, prefix, d);
      std::string next = cp.empty() ? std::string() : core::prefixSuccessor(cp);
      if (!cp.empty() && !pos.empty() && cp <= pos) {  // returned on an earlier page
        it = next.empty() ? self->objects.end() : self->objects.lower_bound(next);
        continue;
      }
      if (count == std::min(maxKeys, self->cap)) {
        page.nextMarker = "tok:" + last;
        break;
      }
      ++count;
      if (!cp.empty()) {
        page.prefixes.push_back(cp);
        last = cp;
        it = next.empty() ? self->objects.end() : self->objects.lower_bound(next);
      } else {
        page.objects.push_back(it->second);
        last = key;
        ++it;
      }
    }
    co_return page;
  }
};

struct Mapped {
  Mapping mapping;
  FakeCold cold;
};

struct World {
  std::set<std::string> warm;
  std::vector<std::unique_ptr<Mapped>> maps;
  std::set<std::string> hidden;  // local keys with a pending delete
  ListCache* cache = nullptr;    // when set, listers go through it (with resumers)

  Mapped& map(const std::string& prefix) {
    auto m = std::make_unique<Mapped>();
    m->mapping.cfg.bucket = "bkt";
    m->mapping.cfg.prefix = prefix;
    m->mapping.index = maps.size();
    maps.push_back(std::move(m));
    return *maps.back();
  }
  std::set<std::string> visibleUnion() const {
    std::set<std::string> all = warm;
    for (const auto& m : maps) {
      for (const auto& [k, o] : m->cold.objects) {
        std::string lk = m->mapping.localKey(k);
        if (!hidden.contains(lk)) all.insert(lk);
      }
    }
    return all;
  }
  Result<core::ListOutput> list(const core::ListInput& in) {
    Page warmPage = refList(warm, in);
    core::ListOutput local;
    for (const auto& k : warmPage.objects) {
      core::ObjectRecord r;
      r.bucket = in.bucket;
      r.key = k;
      r.etag = "warm";
      local.objects.push_back(std::move(r));
    }
    local.commonPrefixes = warmPage.prefixes;
    local.truncated = warmPage.truncated;
    local.nextMarker = warmPage.nextMarker;
    std::vector<MergeSource> sources;
    for (auto& m : maps) {
      MergeSource s{&m->mapping, m->cold.lister(), nullptr};
      if (cache != nullptr) {
        s.list = cache->wrap(m->mapping.index, milliseconds(60'000), std::move(s.list));
        s.resume = cache->resumer(m->mapping.index, milliseconds(60'000));
      }
      sources.push_back(std::move(s));
    }
    std::function<bool(std::string_view)> hid = [this](std::string_view k) {
      return hidden.contains(std::string(k));
    };
    const std::string owner = "alice";
    return runCo(mergeColdListing(in, std::move(local), sources, hid, owner));
  }
  int coldCalls() const {
    int n = 0;
    for (const auto& m : maps) n += m->cold.calls;
    return n;
  }
};

core::ListInput input(std::string prefix, std::string delim, std::string after, uint32_t max) {
  core::ListInput in;
  in.bucket = "bkt";
  in.prefix = std::move(prefix);
  in.delimiter = std::move(delim);
  in.startAfter = std::move(after);
  in.maxKeys = max;
  return in;
}

// Checks one merged page against the reference and the record of every object in it.
void expectPage(World& w, const core::ListInput& in, const core::ListOutput& got) {
  EXPECT_EQ(toPage(got), refList(w.visibleUnion(), in));
  for (const auto& r : got.objects) {
    EXPECT_EQ(r.bucket, "bkt");
    if (w.warm.contains(r.key)) {
      EXPECT_EQ(r.etag, "warm") << r.key;
      EXPECT_TRUE(r.attrs.empty());
    } else {
      EXPECT_EQ(r.owner, "alice");
      ASSERT_EQ(r.attrs.size(), 1u);
      EXPECT_EQ(r.attrs[0].first, std::string(core::kTierStateAttr));
      EXPECT_EQ(r.attrs[0].second, "cold");
      EXPECT_EQ(r.mtimeMs, 1700000000000);
      EXPECT_TRUE(r.etag.starts_with("etag-")) << r.key;
    }
  }
}

// Walks the whole listing page by page; checks each page and that the walk is the full listing.
struct WalkStats {
  size_t pages = 0;
  size_t coldObjects = 0;
  size_t prefixes = 0;
};

void walk(World& w, const std::string& prefix, const std::string& delim, uint32_t max,
          WalkStats& stats) {
  core::ListInput in = input(prefix, delim, "", max);
  Page all;
  Page expectedAll = refList(w.visibleUnion(), input(prefix, delim, "", 1u << 30));
  size_t pages = 0;
  for (;;) {
    auto r = w.list(in);
    ASSERT_TRUE(r) << r.error().toString();
    expectPage(w, in, *r);
    if (::testing::Test::HasFailure()) return;
    Page p = toPage(*r);
    ++stats.pages;
    stats.prefixes += p.prefixes.size();
    for (const auto& o : r->objects) stats.coldObjects += o.attrs.empty() ? 0 : 1;
    all.objects.insert(all.objects.end(), p.objects.begin(), p.objects.end());
    all.prefixes.insert(all.prefixes.end(), p.prefixes.begin(), p.prefixes.end());
    ASSERT_LE(++pages, expectedAll.objects.size() + expectedAll.prefixes.size() + 1);
    if (!p.truncated) break;
    in.startAfter = p.nextMarker;
  }
  EXPECT_EQ(all, expectedAll);
}

TEST(MergeColdListing, WarmOnlyColdOnlyAndDuplicates) {
  World w;
  w.warm = {"a", "c", "e"};
  Mapped& m = w.map("");
  m.cold.add("b", 7);
  m.cold.add("c");
  m.cold.add("d");
  auto r = w.list(input("", "", "", 1000));
  ASSERT_TRUE(r);
  expectPage(w, input("", "", "", 1000), *r);
  EXPECT_EQ(toPage(*r).objects, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(r->objects[1].size, 7u);
  EXPECT_EQ(r->objects[1].content.contentType, "text/plain");
  EXPECT_EQ(r->objects[2].etag, "warm");  // the warm record wins
  m.cold.objects.clear();
  r = w.list(input("", "", "", 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"a", "c"}, {}, true, "c"}));
  w.warm.clear();
  m.cold.add("x");
  r = w.list(input("", "", "", 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"x"}, {}, false, ""}));
}

TEST(MergeColdListing, WholeMappingRollsUpIntoOnePrefix) {
  World w;
  Mapped& m = w.map("data/v1/");
  m.cold.add("a/b");
  m.cold.add("c");
  w.warm = {"data.txt", "zeta"};
  auto r = w.list(input("", "/", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"data.txt", "zeta"}, {"data/"}, false, ""}));
  r = w.list(input("data/", "/", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{}, {"data/v1/"}, false, ""}));
  r = w.list(input("", "/", "data/", 1000));  // startAfter is that prefix
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"zeta"}, {}, false, ""}));
  w.hidden = {"data/v1/a/b", "data/v1/c"};  // every cold key has a pending delete
  r = w.list(input("", "/", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"data.txt", "zeta"}, {}, false, ""}));
  m.cold.objects.clear();
  w.hidden.clear();
  r = w.list(input("", "/", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r).prefixes.size(), 0u);
}

TEST(MergeColdListing, RequestPrefixInsideTheMappingAndDisjointMappings) {
  World w;
  Mapped& data = w.map("data/");
  data.cold.add("v1/a");
  data.cold.add("v1/sub/b");
  data.cold.add("v2/c");
  Mapped& img = w.map("img/");
  img.cold.add("x");
  auto r = w.list(input("data/v1/", "/", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"data/v1/a"}, {"data/v1/sub/"}, false, ""}));
  ASSERT_EQ(data.cold.seen.size(), 1u);
  EXPECT_EQ(std::get<0>(data.cold.seen[0]), "v1/");
  EXPECT_EQ(std::get<3>(data.cold.seen[0]), std::optional<std::string>("/"));
  EXPECT_EQ(img.cold.calls, 0);  // disjoint: never listed
  r = w.list(input("", "", "", 1000));  // both mappings of the bucket
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r).objects,
            (std::vector<std::string>{"data/v1/a", "data/v1/sub/b", "data/v2/c", "img/x"}));
  int before = data.cold.calls;
  r = w.list(input("", "", "data0", 1000));  // the marker is past every key of data/
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r).objects, (std::vector<std::string>{"img/x"}));
  EXPECT_EQ(data.cold.calls, before);
}

TEST(MergeColdListing, StartAfterACommonPrefixSkipsIt) {
  World w;
  w.warm = {"a/1", "b"};
  Mapped& m = w.map("");
  m.cold.add("a/2");
  m.cold.add("a/3/x");
  m.cold.add("c/1");
  for (std::string after : {"a/", "a/2", "a/3/x"}) {
    auto r = w.list(input("", "/", after, 1000));
    ASSERT_TRUE(r);
    EXPECT_EQ(toPage(*r), (Page{{"b"}, {"c/"}, false, ""})) << after;
  }
}

TEST(MergeColdListing, DelimiterStraddlingTheMappingPrefix) {
  World w;
  Mapped& m = w.map("a/");
  m.cold.add("b/x");  // a/b/x: "/b" begins in the mapping prefix
  m.cold.add("c");
  m.cold.add("c/bz");
  auto r = w.list(input("", "/b", "", 1000));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"a/c"}, {"a/b", "a/c/b"}, false, ""}));
}

TEST(MergeColdListing, HiddenKeysAreSkippedAndThePageStillFills) {
  World w;
  Mapped& m = w.map("p/");
  m.cold.cap = 2;  // short cold pages
  for (int i = 0; i < 20; ++i) m.cold.add(fmt::format("k{:02}", i));
  for (int i = 0; i < 9; ++i) w.hidden.insert(fmt::format("p/k{:02}", i));
  auto r = w.list(input("", "", "", 3));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"p/k09", "p/k10", "p/k11"}, {}, true, "p/k11"}));
  EXPECT_GE(m.cold.calls, 6);
}

TEST(MergeColdListing, ColdErrorsComeBackAndMaxKeysZeroIsEmpty) {
  World w;
  w.map("").cold.fail = makeError(Code::kUnavailable, "breaker open");
  auto r = w.list(input("", "", "", 10));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  r = w.list(input("", "", "", 0));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), Page{});

  Mapping mp;
  // A store that answers the second page with the marker it was given would loop forever.
  ColdLister stuck = [](std::string, std::string marker, int, std::optional<std::string>)
      -> asio::awaitable<Result<cold::ColdListPage>> {
    cold::ColdListPage p;
    p.nextMarker = marker.empty() ? "same" : marker;
    co_return p;
  };
  std::vector<MergeSource> sources{{&mp, stuck, nullptr}};
  std::function<bool(std::string_view)> none;
  const std::string owner;
  core::ListInput in = input("", "", "", 5);
  auto s = runCo(mergeColdListing(in, core::ListOutput{}, sources, none, owner));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kCorruption);
}

TEST(MergeColdListing, ResumerMarkerStartsTheColdWalk) {
  World w;
  Mapped& m = w.map("");
  for (int i = 0; i < 10; ++i) m.cold.add(fmt::format("k{}", i));
  std::vector<MergeSource> sources{{&m.mapping, m.cold.lister(),
                                    [](const std::string&, const std::optional<std::string>&,
                                       const std::string& after) {
                                      EXPECT_EQ(after, "k4");
                                      return std::string("tok:k3");
                                    }}};
  std::function<bool(std::string_view)> none;
  const std::string owner;
  core::ListInput in = input("", "", "k4", 2);
  auto r = runCo(mergeColdListing(in, core::ListOutput{}, sources, none, owner));
  ASSERT_TRUE(r);
  EXPECT_EQ(toPage(*r), (Page{{"k5", "k6"}, {}, true, "k6"}));
  ASSERT_EQ(m.cold.seen.size(), 1u);
  EXPECT_EQ(std::get<1>(m.cold.seen[0]), "tok:k3");
}

// Random warm/cold namespaces over a small alphabet: prefixes, delimiters and duplicates collide.
TEST(MergeColdListing, PagingMatchesTheReferenceOverRandomNamespaces) {
  std::mt19937 rng(20240611);
  auto pick = [&](const auto& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  auto randomKey = [&](int lo, int hi) {
    std::string s;
    int n = std::uniform_int_distribution<int>(lo, hi)(rng);
    for (int i = 0; i < n; ++i) s.push_back("ab/"[rng() % 3]);
    return s;
  };
  const std::vector<std::vector<std::string>> layouts = {
      {""}, {"a/"}, {"a"}, {"a/b/"}, {"b/a"}, {"a/", "b"}, {"a/a", "a/b/", "b/"}, {"/"}, {"ab/"}};
  const std::vector<std::string> prefixes = {"", "", "a", "a/", "a/b", "a/b/", "b", "b/a/", "/"};
  const std::vector<std::string> delims = {"", "", "/", "/", "b/", "//", "/a"};
  WalkStats stats;
  for (int iter = 0; iter < 1000; ++iter) {
    World w;
    ListCache cache(64);
    if (iter % 2 == 1) w.cache = &cache;
    for (const std::string& p : pick(layouts)) {
      Mapped& m = w.map(p);
      m.cold.cap = pick(std::vector<int>{1, 2, 3, 5000});
      int n = std::uniform_int_distribution<int>(0, 14)(rng);
      for (int i = 0; i < n; ++i) m.cold.add(randomKey(1, 4));
      for (const auto& [k, o] : m.cold.objects) {
        if (rng() % 4 == 0) w.warm.insert(p + k);
      }
    }
    int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int i = 0; i < n; ++i) w.warm.insert(randomKey(1, 5));
    const std::string prefix = pick(prefixes);
    const std::string delim = pick(delims);
    if (delim.empty()) {  // cold roll-ups cannot see pending deletes (list_merge.h)
      for (const auto& m : w.maps) {
        for (const auto& [k, o] : m->cold.objects) {
          if (rng() % 4 == 0) w.hidden.insert(m->mapping.localKey(k));
        }
      }
    }
    SCOPED_TRACE(::testing::Message() << "iter " << iter << " prefix '" << prefix << "' delim '"
                                      << delim << "' mapping0 '" << w.maps[0]->mapping.cfg.prefix
                                      << "' cached " << (w.cache != nullptr));
    for (uint32_t max : {1u, 2u, 3u, 7u, 1000u}) {
      walk(w, prefix, delim, max, stats);
      if (HasFailure()) return;
    }
    for (int i = 0; i < 8; ++i) {
      uint32_t max = pick(std::vector<uint32_t>{1, 2, 5});
      core::ListInput in = input(prefix, delim, randomKey(0, 5), max);
      auto r = w.list(in);
      ASSERT_TRUE(r) << r.error().toString();
      expectPage(w, in, *r);
      if (HasFailure()) return;
    }
  }
  // The generator is not degenerate: many pages, with cold keys and roll-ups on them.
  EXPECT_GT(stats.pages, 8000u) << stats.coldObjects << " " << stats.prefixes;
  EXPECT_GT(stats.coldObjects, 4000u);
  EXPECT_GT(stats.prefixes, 2500u);
}

// --- ListCache ---

TEST(ListCache, AnswersFreshPagesAndForgetsOnInvalidate) {
  FakeCold c;
  c.add("a");
  c.add("b");
  ListCache cache;
  ColdLister l = cache.wrap(3, milliseconds(3'600'000), c.lister());
  auto r = runCo(l("", "", 10, std::nullopt));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->objects.size(), 2u);
  r = runCo(l("", "", 10, std::nullopt));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(c.calls, 1);
  EXPECT_EQ(cache.size(), 1u);
  runCo(l("", "", 10, std::string("/"))).value();  // another key: the delimiter differs
  runCo(l("", "", 9, std::nullopt)).value();       // and maxKeys
  EXPECT_EQ(c.calls, 3);
  cache.invalidate(4);  // another mapping
  EXPECT_EQ(cache.size(), 3u);
  cache.invalidate(3);
  EXPECT_EQ(cache.size(), 0u);
  runCo(l("", "", 10, std::nullopt)).value();
  EXPECT_EQ(c.calls, 4);
  c.fail = makeError(Code::kTimeout, "slow");
  EXPECT_FALSE(runCo(l("x", "", 10, std::nullopt)));  // errors are not kept
  c.fail.reset();
  EXPECT_TRUE(runCo(l("x", "", 10, std::nullopt)));
  EXPECT_EQ(c.calls, 6);
}

TEST(ListCache, ZeroTtlAlwaysAsksAndLruIsBounded) {
  FakeCold c;
  c.add("a");
  ListCache zero;
  ColdLister z = zero.wrap(0, milliseconds(0), c.lister());
  runCo(z("", "", 10, std::nullopt)).value();
  runCo(z("", "", 10, std::nullopt)).value();
  EXPECT_EQ(c.calls, 2);
  EXPECT_EQ(zero.size(), 0u);

  ListCache lru(2);
  ColdLister l = lru.wrap(0, milliseconds(3'600'000), c.lister());
  runCo(l("p1", "", 10, std::nullopt)).value();
  runCo(l("p2", "", 10, std::nullopt)).value();
  runCo(l("p1", "", 10, std::nullopt)).value();  // p1 is now the most recent
  EXPECT_EQ(c.calls, 4);
  runCo(l("p3", "", 10, std::nullopt)).value();  // evicts p2
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_EQ(c.calls, 5);
  runCo(l("p1", "", 10, std::nullopt)).value();
  runCo(l("p3", "", 10, std::nullopt)).value();
  EXPECT_EQ(c.calls, 5);
  runCo(l("p2", "", 10, std::nullopt)).value();
  EXPECT_EQ(c.calls, 6);
}

TEST(ListCache, PageReadDuringInvalidateIsNotKept) {
  FakeCold c;
  c.add("a");
  ListCache cache;
  ColdLister inner = c.lister();
  ColdLister racing = [&cache, inner](std::string p, std::string m, int k,
                                      std::optional<std::string> d) {
    cache.invalidate(1);  // a write-back lands while the page is on its way
    return inner(std::move(p), std::move(m), k, std::move(d));
  };
  ColdLister l = cache.wrap(1, milliseconds(3'600'000), racing);
  runCo(l("", "", 10, std::nullopt)).value();
  EXPECT_EQ(cache.size(), 0u);
}

asio::awaitable<Result<cold::ColdListPage>> echoPage(std::atomic<int>* calls, std::string prefix) {
  calls->fetch_add(1);
  cold::ColdListPage p;
  p.prefixes.push_back(prefix);
  co_return p;
}

TEST(ListCache, ConcurrentUseFromSeveralThreads) {
  std::atomic<int> calls{0};
  ListCache cache(8);
  ColdLister inner = [&calls](std::string prefix, std::string, int, std::optional<std::string>) {
    return echoPage(&calls, std::move(prefix));
  };
  ColdLister l = cache.wrap(1, milliseconds(3'600'000), inner);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        std::string prefix = "p" + std::to_string((i + t) % 6);
        auto r = runCo(l(prefix, "", 10, std::nullopt));
        if (!r || r->prefixes != std::vector<std::string>{prefix}) ++wrong;
        if (i % 50 == 0) cache.invalidate(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 8u);
  // 6 keys fit the cache: a thread misses a key at most once between two of the 24 invalidations.
  EXPECT_LE(calls.load(), 4 * 25 * 6);
}

TEST(ListCache, ResumerReturnsTheMarkerAfterTheLastEntryAtOrBefore) {
  FakeCold c;
  for (int i = 0; i < 6; ++i) c.add(fmt::format("k{}", i));
  ListCache cache;
  ColdLister l = cache.wrap(2, milliseconds(3'600'000), c.lister());
  ColdResume resume = cache.resumer(2, milliseconds(3'600'000));
  auto p1 = runCo(l("", "", 2, std::nullopt)).value();  // k0 k1
  auto p2 = runCo(l("", p1.nextMarker, 2, std::nullopt)).value();  // k2 k3
  EXPECT_EQ(resume("", std::nullopt, "k0"), "");
  EXPECT_EQ(resume("", std::nullopt, "k1"), p1.nextMarker);
  EXPECT_EQ(resume("", std::nullopt, "k2x"), p1.nextMarker);
  EXPECT_EQ(resume("", std::nullopt, "k9"), p2.nextMarker);
  EXPECT_EQ(resume("", std::string("/"), "k9"), "");  // other delimiter
  EXPECT_EQ(resume("k", std::nullopt, "k9"), "");     // other prefix
  EXPECT_EQ(cache.resumer(3, milliseconds(3'600'000))("", std::nullopt, "k9"), "");
  cache.invalidate(2);
  EXPECT_EQ(resume("", std::nullopt, "k9"), "");
  runCo(l("", "", 2, std::nullopt)).value();
  EXPECT_EQ(resume("", std::nullopt, "k9"), p1.nextMarker);
  EXPECT_EQ(cache.resumer(2, milliseconds(0))("", std::nullopt, "k9"), "");  // stale
}

}  // namespace
}  // namespace ember::tier
