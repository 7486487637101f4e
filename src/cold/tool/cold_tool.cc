// ember_cold_tool: drives one ColdStore for the integration tests (tests/integration/test_cold_*).
//
//   ember_cold_tool --location az://acct/container/prefix --endpoint URL [auth and tuning flags]
//
// then reads commands from stdin, one per line, fields separated by TABs ("-" = empty/absent):
//   put KEY FILE [CONTENT_TYPE]          get KEY OUTFILE [OFFSET [LENGTH]]
//   head KEY      del KEY                list PREFIX MARKER MAXKEYS DELIMITER
//   stats
// and answers each with one JSON line: {"ok": true, ...} or {"ok": false, "code": "kNotFound",
// "message": "..."}, always with "attempts" (HTTP requests this command sent) and "breaker".
// Exit status: 0 after end of input, 2 for bad flags.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "cold/cold_store.h"

namespace {

using namespace ember;
using namespace ember::cold;
using nlohmann::json;

class FileSource final : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : in_(path, std::ios::binary) {}
  bool ok() const { return in_.good(); }
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    in_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    co_return static_cast<size_t>(in_.gcount());
  }

 private:
  std::ifstream in_;
};

class FileSink final : public ByteSink {
 public:
  explicit FileSink(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  asio::awaitable<Status> write(std::span<const char> data) override {
    out_.write(data.data(), static_cast<std::streamsize>(data.size()));
    written += data.size();
    co_return out_.good() ? Status::ok() : makeError(Code::kIOError, "cannot write the file");
  }
  uint64_t written = 0;

 private:
  std::ofstream out_;
};

std::vector<std::string> splitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(cur == "-" ? std::string() : cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur == "-" ? std::string() : cur);
  return out;
}

json infoJson(const ColdObjectInfo& i) {
  return {{"key", i.key},
          {"size", i.size},
          {"etag", i.etag},
          {"lastModified", i.lastModifiedMs},
          {"contentType", i.contentType}};
}

json errorJson(const Status& s) {
  return {{"ok", false}, {"code", std::string(codeName(s.code()))}, {"message", s.message()}};
}

asio::awaitable<json> runCommand(ColdStore& store, const std::vector<std::string>& f) {
  const std::string& cmd = f[0];
  auto arg = [&](size_t i) { return i < f.size() ? f[i] : std::string(); };
  if (cmd == "put" && f.size() >= 3) {
    FileSource src(arg(2));
    std::ifstream probe(arg(2), std::ios::binary | std::ios::ate);
    if (!src.ok() || !probe) {
      co_return errorJson(makeError(Code::kInvalidArgument, "cannot open " + arg(2)));
    }
    const auto size = static_cast<uint64_t>(probe.tellg());
    PutOptions opt;
    if (!arg(3).empty()) {
      opt.contentType = arg(3);
    }
    opt.metadata.emplace_back("source", "ember-cold-tool");
    auto r = co_await store.put(arg(1), src, size, opt);
    if (!r) {
      co_return errorJson(r.error());
    }
    co_return json{{"ok", true}, {"etag", *r}};
  }
  if (cmd == "get" && f.size() >= 3) {
    FileSink sink(arg(2));
    std::optional<ByteRange> range;
    if (!arg(3).empty()) {
      range = ByteRange{std::stoull(arg(3)), std::nullopt};
      if (!arg(4).empty()) {
        range->length = std::stoull(arg(4));
      }
    }
    auto r = co_await store.get(arg(1), range, sink);
    if (!r) {
      co_return errorJson(r.error());
    }
    json j = infoJson(*r);
    j["ok"] = true;
    j["written"] = sink.written;
    co_return j;
  }
  if (cmd == "head" && f.size() >= 2) {
    auto r = co_await store.head(arg(1));
    if (!r) {
      co_return errorJson(r.error());
    }
    json j = infoJson(*r);
    j["ok"] = true;
    co_return j;
  }
  if (cmd == "del" && f.size() >= 2) {
    Status s = co_await store.del(arg(1));
    co_return s.isOk() ? json{{"ok", true}} : errorJson(s);
  }
  if (cmd == "list" && f.size() >= 4) {
    std::optional<std::string> delim;
    if (!arg(4).empty()) {
      delim = arg(4);
    }
    auto r = co_await store.list(arg(1), arg(2), std::stoi(arg(3)), delim);
    if (!r) {
      co_return errorJson(r.error());
    }
    json objs = json::array();
    for (const auto& o : r->objects) {
      objs.push_back(infoJson(o));
    }
    co_return json{{"ok", true}, {"objects", objs}, {"prefixes", r->prefixes},
                   {"next", r->nextMarker}};
  }
  if (cmd == "stats") {
    ColdStoreStats s = store.stats();
    co_return json{{"ok", true},
                   {"calls", s.calls},
                   {"totalAttempts", s.attempts},
                   {"retries", s.retries},
                   {"rejections", s.breakerRejections}};
  }
  co_return errorJson(makeError(Code::kInvalidArgument, "unknown command or missing fields"));
}

asio::awaitable<void> loop(ColdStore& store) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      continue;
    }
    const uint64_t before = store.stats().attempts;
    json j = co_await runCommand(store, splitTabs(line));
    j["attempts"] = store.stats().attempts - before;
    j["breaker"] = std::string(breakerStateName(store.breakerState()));
    std::cout << j.dump() << std::endl;
  }
}

int usage(const std::string& why) {
  std::cerr << "ember_cold_tool: " << why << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      return usage("flags are --name value pairs");
    }
    flags[k.substr(2)] = argv[i + 1];
  }
  auto flag = [&](const std::string& k, const std::string& d = {}) {
    auto it = flags.find(k);
    return it == flags.end() ? d : it->second;
  };
  auto loc = parseColdLocation(flag("location"));
  if (!loc) {
    return usage(loc.error().message());
  }
  ColdStoreConfig cfg;
  cfg.location = *loc;
  cfg.endpoint = flag("endpoint");
  if (!flag("sas").empty()) {
    cfg.azure.mode = AzureAuthConfig::Mode::kSas;
    cfg.azure.sasToken = flag("sas");
  } else if (!flag("token-endpoint").empty()) {
    cfg.azure.mode = AzureAuthConfig::Mode::kBearer;
    cfg.azure.tokenEndpoint = flag("token-endpoint");
  } else {
    cfg.azure.accountKey = flag("account-key");
  }
  cfg.s3.accessKey = flag("access-key");
  cfg.s3.secretKey = flag("secret-key");
  cfg.s3.region = flag("region", "us-east-1");
  cfg.caFile = flag("ca-file");
  cfg.partSize = std::stoull(flag("part-size", "8388608"));
  cfg.multipartThreshold = std::stoull(flag("threshold", "16777216"));
  cfg.parallelParts = std::stoi(flag("parallel", "4"));
  cfg.retry.maxAttempts = std::stoi(flag("max-attempts", "4"));
  cfg.retry.baseDelay = std::chrono::milliseconds(std::stoll(flag("base-delay-ms", "50")));
  cfg.retry.maxDelay = std::chrono::milliseconds(std::stoll(flag("max-delay-ms", "1000")));
  cfg.breaker.failureThreshold = std::stoi(flag("breaker-threshold", "5"));
  cfg.breaker.coolDown = std::chrono::milliseconds(std::stoll(flag("cooldown-ms", "30000")));
  cfg.connectTimeout = std::chrono::milliseconds(std::stoll(flag("connect-timeout-ms", "5000")));
  cfg.readTimeout = std::chrono::milliseconds(std::stoll(flag("read-timeout-ms", "30000")));

  asio::io_context io;
  auto store = makeColdStore(io.get_executor(), cfg);
  if (!store) {
    return usage(store.error().toString());
  }
  asio::co_spawn(io, loop(**store), asio::detached);
  io.run();
  return 0;
}
