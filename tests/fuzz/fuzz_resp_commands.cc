// libFuzzer target for the Redis command layer end to end: RequestParser -> dispatch -> handlers -> a real
// kv::Engine (src/resp/command.h, src/kv/engine.h), set up the way src/resp/server.cc sets up a connection.
//
// One engine is opened once, in a temporary directory, with small limits (4 KiB values, 64-byte keys, 64 KiB
// of cache and 64 KiB segments) so that segment sealing, compaction and cache eviction happen within a run.
// Each input starts from an empty key space (Engine::clear) and a fresh session, so an input replays alone.
//
// Input: an optional selector byte in 0x01..0x07, then the byte stream a client sends. Selector bits:
//   1: [[kv.users]] "alice"/"secret" and the read-only "ro"/"ropw" are configured; the session starts
//      unauthenticated;
//   2: before the stream, keys "p0".."p95" get 3000-byte values (288 KB in all: more than the cache and a
//      segment per shard, so the stream's commands meet values that live only on disk, sealed segments and
//      compaction);
//   4: those keys get an expiry an hour from now.
// Every complete command (at most kMaxCommands) is dispatched. Checks, after each command:
//  - the bytes it appended are exactly one well-formed RESP reply (a small validator below: lengths match,
//    lines hold no CR/LF, integers and doubles are well formed, aggregates hold their announced count);
//  - RESP3-only types appear only when the session speaks RESP3 (before or after the command: HELLO and
//    RESET switch the protocol for their own reply);
// and memory safety, no leaks and no undefined behaviour under ASan + UBSan. QUIT or a CLIENT KILL of this
// connection (closeAfterReply) ends the stream as the server does; a protocol error gets its one error reply.
// EMBER_FUZZ_PRINT=1 in the environment writes each input's replies to stderr.

#include <stdlib.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kv/engine.h"
#include "resp/command.h"
#include "resp/protocol.h"

namespace ember::resp {
namespace {

constexpr size_t kMaxCommands = 200;
constexpr int kMaxDepth = 16;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// ---- reply validator ---------------------------------------------------------------------------------------

// Reads one RESP reply from the front of `in`; false when it is malformed or incomplete.
class ReplyReader {
 public:
  ReplyReader(std::string_view in, bool allowResp3) : in_(in), resp3_(allowResp3) {}

  bool one(int depth = 0) {
    if (depth > kMaxDepth || pos_ >= in_.size()) {
      return false;
    }
    char type = in_[pos_++];
    std::string_view line;
    if (!readLine(line)) {
      return false;
    }
    switch (type) {
      case '+':
      case '-':
        return type == '+' || !line.empty();  // an error has at least its code word
      case ':':
        return isInteger(line);
      case '$':
        return bulkBody(line, false);
      case '*':
        if (line == "-1") {
          return true;  // RESP2 null array
        }
        return aggregate(line, 1, depth);
      case '%':
        return resp3_ && aggregate(line, 2, depth);
      case '~':
      case '>':
        return resp3_ && aggregate(line, 1, depth);
      case ',':
        return resp3_ && isDouble(line);
      case '#':
        return resp3_ && (line == "t" || line == "f");
      case '_':
        return resp3_ && line.empty();
      case '(':
        return resp3_ && isBigNumber(line);
      case '=':
        return resp3_ && bulkBody(line, true);
      case '!':
        return resp3_ && bulkBody(line, false);
      default:
        return false;
    }
  }

  size_t pos() const { return pos_; }

 private:
  // The rest of the line up to CRLF; a lone CR or LF inside it is malformed.
  bool readLine(std::string_view& line) {
    size_t cr = in_.find('\r', pos_);
    if (cr == std::string_view::npos || cr + 1 >= in_.size() || in_[cr + 1] != '\n') {
      return false;
    }
    line = in_.substr(pos_, cr - pos_);
    if (line.find('\n') != std::string_view::npos) {
      return false;
    }
    pos_ = cr + 2;
    return true;
  }

  static bool isInteger(std::string_view s) {
    int64_t v = 0;
    if (s.empty() || (s.size() > 1 && (s[0] == '0' || (s[0] == '-' && s[1] == '0'))) || s == "-") {
      return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  }

  static bool isBigNumber(std::string_view s) {
    size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
    if (i == s.size()) {
      return false;
    }
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') {
        return false;
      }
    }
    return true;
  }

  static bool isDouble(std::string_view s) {
    if (s == "inf" || s == "-inf" || s == "nan") {
      return true;
    }
    if (s.empty() || s.size() > 40) {
      return false;
    }
    std::string copy(s);
    char* end = nullptr;
    double v = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size() && std::isfinite(v);
  }

  bool bulkBody(std::string_view lenLine, bool verbatim) {
    if (lenLine == "-1" && !verbatim) {
      return true;  // RESP2 null bulk
    }
    int64_t n = 0;
    if (!isInteger(lenLine)) {
      return false;
    }
    std::from_chars(lenLine.data(), lenLine.data() + lenLine.size(), n);
    if (n < 0 || static_cast<uint64_t>(n) > in_.size() - pos_) {
      return false;
    }
    size_t len = static_cast<size_t>(n);
    if (in_.size() - pos_ - len < 2 || in_.substr(pos_ + len, 2) != "\r\n") {
      return false;
    }
    if (verbatim && (len < 4 || in_[pos_ + 3] != ':')) {
      return false;
    }
    pos_ += len + 2;
    return true;
  }

  bool aggregate(std::string_view countLine, int per, int depth) {
    int64_t n = 0;
    if (!isInteger(countLine)) {
      return false;
    }
    std::from_chars(countLine.data(), countLine.data() + countLine.size(), n);
    if (n < 0 || static_cast<uint64_t>(n) > in_.size()) {  // each element takes at least 3 bytes
      return false;
    }
    for (int64_t i = 0; i < n * per; ++i) {
      if (!one(depth + 1)) {
        return false;
      }
    }
    return true;
  }

  std::string_view in_;
  bool resp3_;
  size_t pos_ = 0;
};

// `reply` must be exactly one reply.
void checkOneReply(std::string_view reply, bool allowResp3) {
  ReplyReader r(reply, allowResp3);
  check(r.one());
  check(r.pos() == reply.size());
}

// ---- the engine and server state, opened once --------------------------------------------------------------

struct World {
  std::string dir;
  std::unique_ptr<kv::Engine> engine;
  KvServerOptions open;   // no users: every connection is "default"
  KvServerOptions users;  // [[kv.users]] configured: AUTH needed
  ServerState state;

  World() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-fuzz-cmds-XXXXXX").string();
    check(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    kv::Options o;
    o.dir = dir;
    o.shards = 4;
    o.durability = kv::Durability::kNone;
    o.cacheBytes = 64 * 1024;
    o.segmentBytes = 64 * 1024;
    o.maxValueBytes = 4096;
    o.maxKeyBytes = 64;
    o.tailBufferBytes = 16 * 1024;
    auto opened = kv::Engine::open(o);
    check(static_cast<bool>(opened));
    engine = std::move(*opened);
    users.users = {User{"alice", "secret", false}, User{"ro", "ropw", true}};
    open.maxKeysPattern = 10'000;
    users.maxKeysPattern = 10'000;
    state.options = &open;
    state.engine = engine.get();
    state.startedUnixMs = nowUnixMs();
    state.port = 6379;
    state.dataDir = dir;
    state.durabilityName = "none";
  }
  ~World() {
    engine.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

World& world() {
  static World w;
  return w;
}

// Keys "p0".."p95" with 3000-byte values that differ per key, written 8 keys per update.
void prefill(kv::Engine& engine, bool withExpiry) {
  constexpr size_t kKeys = 96;
  constexpr size_t kPerUpdate = 8;
  int64_t at = withExpiry ? nowUnixMs() + 3'600'000 : kv::kNoExpiry;
  std::vector<std::string> names;
  for (size_t i = 0; i < kKeys; ++i) {
    names.push_back("p" + std::to_string(i));
  }
  for (size_t first = 0; first < kKeys; first += kPerUpdate) {
    std::vector<std::string_view> keys(names.begin() + static_cast<ptrdiff_t>(first),
                                       names.begin() + static_cast<ptrdiff_t>(first + kPerUpdate));
    Status s = engine.update(
        keys,
        [&](kv::Txn& t) {
          for (size_t j = 0; j < t.size(); ++j) {
            std::string value(3000, static_cast<char>('a' + (first + j) % 26));
            value.replace(0, names[first + j].size(), names[first + j]);
            t.put(j, value, at);
          }
        },
        nullptr);
    check(s.isOk());
  }
}

// CLIENT LIST / CLIENT KILL see one other connection (id 1) besides the fuzzed one.
std::vector<ServerState::ClientView> listClients(const ServerState&) {
  return {ServerState::ClientView{1, "127.0.0.1:40000", "127.0.0.1:6379", "other", "default", 1, 1, 2, "get"}};
}
bool killClient(const ServerState&, uint64_t id) { return id == 1; }

}  // namespace
}  // namespace ember::resp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember;
  using namespace ember::resp;
  World& w = world();
  std::string_view stream(reinterpret_cast<const char*>(data), size);
  uint8_t selector = 0;
  if (size > 0 && data[0] >= 0x01 && data[0] <= 0x07) {
    selector = data[0];
    stream.remove_prefix(1);
  }
  bool withUsers = (selector & 1) != 0;

  check(w.engine->clear(nullptr).isOk());
  if (selector & 2) {
    prefill(*w.engine, (selector & 4) != 0);
  }
  w.state.options = withUsers ? &w.users : &w.open;
  w.state.listClients = &listClients;
  w.state.killClient = &killClient;

  Session session;
  session.id = 42;
  session.authenticated = !withUsers;
  session.createdUnixMs = nowUnixMs();
  session.lastCommandUnixMs = session.createdUnixMs;
  session.addr = "127.0.0.1:40001";
  session.laddr = "127.0.0.1:6379";

  RequestParser parser(w.state.options->limits);
  std::string out;
  ReplyWriter writer(out, 2);
  kv::WriteSet writes;
  Context ctx{w.state, *w.engine, session, writer, writes};

  size_t dispatched = 0;
  size_t replies = 0;
  while (!stream.empty() && dispatched < kMaxCommands) {
    RequestParser::State ps = parser.parse(stream);
    if (ps == RequestParser::State::kIncomplete) {
      break;
    }
    size_t before = out.size();
    if (ps == RequestParser::State::kError) {
      writer.error(parser.error());
      checkOneReply(std::string_view(out).substr(before), session.proto == 3);
      ++replies;
      break;
    }
    std::span<const std::string_view> args = parser.args();
    check(!args.empty());
    int protoBefore = session.proto;
    uint64_t countBefore = session.commands;
    dispatch(ctx, args);
    ++dispatched;
    ++replies;
    check(session.proto == 2 || session.proto == 3);
    check(writer.proto() == session.proto);
    check(session.commands - countBefore <= 1);  // refused commands (arity, NOAUTH, NOPERM) do not count
    checkOneReply(std::string_view(out).substr(before), protoBefore == 3 || session.proto == 3);
    check(parser.consumed() > 0 && parser.consumed() <= stream.size());
    stream.remove_prefix(parser.consumed());
    if (session.closeAfterReply) {
      break;
    }
    if (out.size() > (1 << 20)) {
      out.clear();  // as the server flushes; every reply was already checked
    }
  }
  // Every command got exactly one reply (each was checked to be one whole reply above).
  check(replies >= dispatched && replies <= dispatched + 1);
  writes.clear();
  if (std::getenv("EMBER_FUZZ_PRINT") != nullptr) {  // to read what one input does: replies to stderr
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  return 0;
}
