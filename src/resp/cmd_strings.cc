// String commands (https://redis.io/docs/latest/commands/?group=string): GET, SET and its variants, MGET,
// MSET, counters, ranges. Each handler parses its arguments, makes one engine call (update() for anything
// that reads and writes, so it is atomic), and writes one reply. Replies and error texts follow Redis 7.

#include <charconv>
#include <cstring>
#include <cstdio>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "resp/command.h"

namespace ember::resp {

namespace {

using Args = std::span<const std::string_view>;

enum class Cond { kNone, kNx, kXx };

// Expiry options shared by SET and GETEX. `unit` options take a relative or absolute time; the result is an
// absolute Unix time in ms. Errors as Redis: a non-integer is "not an integer", <= 0 or overflowing is
// "invalid expire time in '<cmd>' command".
struct ExpiryArg {
  enum Kind { kNone, kEx, kPx, kExAt, kPxAt, kKeepTtl, kPersist } kind = kNone;
  int64_t atMs = kv::kNoExpiry;
};

// Parses the number after EX/PX/EXAT/PXAT into ExpiryArg::atMs. Returns false after writing the error.
bool expiryValue(Context& ctx, std::string_view cmd, ExpiryArg::Kind kind, std::string_view text,
                 ExpiryArg& out) {
  int64_t v = 0;
  if (!parseInt(text, v)) {
    ctx.out.error(kNotIntegerErr);
    return false;
  }
  bool seconds = kind == ExpiryArg::kEx || kind == ExpiryArg::kExAt;
  bool relative = kind == ExpiryArg::kEx || kind == ExpiryArg::kPx;
  int64_t ms = v;
  if (v <= 0 || (seconds && __builtin_mul_overflow(v, int64_t{1000}, &ms)) ||
      (relative && __builtin_add_overflow(ms, nowUnixMs(), &ms))) {
    ctx.out.error("ERR invalid expire time in '" + std::string(cmd) + "' command");
    return false;
  }
  out.kind = kind;
  out.atMs = ms;
  return true;
}

bool expiryKeyword(std::string_view a, ExpiryArg::Kind& kind) {
  if (equalsIgnoreCase(a, "ex")) {
    kind = ExpiryArg::kEx;
  } else if (equalsIgnoreCase(a, "px")) {
    kind = ExpiryArg::kPx;
  } else if (equalsIgnoreCase(a, "exat")) {
    kind = ExpiryArg::kExAt;
  } else if (equalsIgnoreCase(a, "pxat")) {
    kind = ExpiryArg::kPxAt;
  } else {
    return false;
  }
  return true;
}

// Collects SET's and GETEX's expiry options as Redis does: one option kind, which may repeat (the last value
// wins; KEEPTTL and PERSIST may repeat too), and the number is checked only once every option has parsed, so a
// syntax error anywhere wins over a bad number. `i` is moved past a consumed value. Returns false for an
// option that is not an expiry option or conflicts with the one already seen (the caller answers syntax error).
struct ExpiryParse {
  ExpiryArg::Kind kind = ExpiryArg::kNone;
  std::string_view text;

  bool take(Args args, size_t& i, bool allowKeepTtl, bool allowPersist) {
    std::string_view a = args[i];
    ExpiryArg::Kind k;
    if (allowKeepTtl && equalsIgnoreCase(a, "keepttl")) {
      k = ExpiryArg::kKeepTtl;
    } else if (allowPersist && equalsIgnoreCase(a, "persist")) {
      k = ExpiryArg::kPersist;
    } else if (!expiryKeyword(a, k) || i + 1 >= args.size()) {
      return false;
    }
    if (kind != ExpiryArg::kNone && kind != k) {
      return false;
    }
    kind = k;
    if (k != ExpiryArg::kKeepTtl && k != ExpiryArg::kPersist) {
      text = args[++i];
    }
    return true;
  }

  // Fills `out`; false after writing the error for a bad number.
  bool finish(Context& ctx, std::string_view cmd, ExpiryArg& out) const {
    if (kind == ExpiryArg::kNone || kind == ExpiryArg::kKeepTtl || kind == ExpiryArg::kPersist) {
      out.kind = kind;
      return true;
    }
    return expiryValue(ctx, cmd, kind, text, out);
  }
};

// The reply of the commands that return a key's previous value (GETDEL, GETEX, GETSET, SET ... GET).
void replyOld(Context& ctx, const Status& s, const std::optional<std::string>& old) {
  if (!s) {
    engineError(ctx, s);
  } else if (old) {
    ctx.out.bulk(*old);
  } else {
    ctx.out.null();
  }
}

// Redis's ld2string(..., LD_STR_HUMAN): fixed notation with 17 decimals, then trailing zeros (and a trailing
// dot) removed; "-0" becomes "0".
std::string formatLongDouble(long double v) {
  char buf[5 * 1024];  // Redis's MAX_LONG_DOUBLE_CHARS: enough for any finite long double in %Lf
  int n = std::snprintf(buf, sizeof buf, "%.17Lf", v);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) {
    return formatDouble(static_cast<double>(v));
  }
  size_t len = static_cast<size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (len > 0 && buf[len - 1] == '0') {
      --len;
    }
    if (len > 0 && buf[len - 1] == '.') {
      --len;
    }
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') {
    return "0";
  }
  return std::string(buf, len);
}

// Strict integer value of a stored string, as Redis's getLongLongFromObject (at most 20 bytes).
bool storedInt(const std::string& v, int64_t& out) { return v.size() <= 20 && parseInt(v, out); }

void incrBy(Context& ctx, std::string_view key, int64_t delta) {
  int64_t result = 0;
  const char* err = nullptr;
  auto fn = [&](kv::Txn& t) {
    int64_t cur = 0;
    if (const std::string* v = t.value(0); v && !storedInt(*v, cur)) {
      err = "ERR value is not an integer or out of range";
      return;
    }
    if (__builtin_add_overflow(cur, delta, &result)) {
      err = "ERR increment or decrement would overflow";  // Redis's text for INCR, DECR, INCRBY and DECRBY
      return;
    }
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, result);
    t.put(0, std::string_view(buf, static_cast<size_t>(r.ptr - buf)), t.expireAt(0));
  };
  Status s = updateKey(ctx, key, fn);
  if (!s) {
    engineError(ctx, s);
  } else if (err) {
    ctx.out.error(err);
  } else {
    ctx.out.integer(result);
  }
}

}  // namespace

void cmdGet(Context& ctx, Args args) {
  Context* c = &ctx;
  Status s = ctx.engine.read(args[1], [c](std::string_view v, int64_t) { c->out.bulk(v); });
  if (s) {
    ++ctx.session.hits;
  } else if (s.code() == Code::kNotFound) {
    ++ctx.session.misses;
    ctx.out.null();
  } else {
    engineError(ctx, s);
  }
}

// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
void cmdSet(Context& ctx, Args args) {
  Cond cond = Cond::kNone;
  bool get = false;
  ExpiryParse parse;
  for (size_t i = 3; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (equalsIgnoreCase(a, "nx") && cond != Cond::kXx) {
      cond = Cond::kNx;
    } else if (equalsIgnoreCase(a, "xx") && cond != Cond::kNx) {
      cond = Cond::kXx;
    } else if (equalsIgnoreCase(a, "get")) {
      get = true;
    } else if (!parse.take(args, i, true, false)) {
      ctx.out.error(kSyntaxErr);
      return;
    }
  }
  ExpiryArg exp;
  if (!parse.finish(ctx, "set", exp)) {
    return;
  }
  std::string_view value = args[2];
  if (value.size() > ctx.engine.options().maxValueBytes) {
    engineError(ctx, Status(Code::kEntityTooLarge, ""));
    return;
  }
  bool written = false;
  std::optional<std::string> old;
  auto fn = [&](kv::Txn& t) {
    bool exists;
    if (get) {
      const std::string* v = t.value(0);
      exists = v != nullptr;
      if (v) {
        old = *v;
      }
    } else {
      exists = cond != Cond::kNone && t.exists(0);
    }
    if ((cond == Cond::kNx && exists) || (cond == Cond::kXx && !exists)) {
      return;
    }
    int64_t at = exp.kind == ExpiryArg::kKeepTtl ? t.expireAt(0) : exp.atMs;
    t.put(0, value, at);
    written = true;
  };
  Status s = updateKey(ctx, args[1], fn);
  if (!s || get) {
    replyOld(ctx, s, old);
  } else if (written) {
    ctx.out.ok();
  } else {
    ctx.out.null();
  }
}

void cmdSetNx(Context& ctx, Args args) {
  bool written = false;
  auto fn = [&](kv::Txn& t) {
    if (!t.exists(0)) {
      t.put(0, args[2], kv::kNoExpiry);
      written = true;
    }
  };
  Status s = updateKey(ctx, args[1], fn);
  if (!s) {
    engineError(ctx, s);
  } else {
    ctx.out.integer(written ? 1 : 0);
  }
}

namespace {

void setWithExpiry(Context& ctx, Args args, std::string_view cmd, ExpiryArg::Kind kind) {
  ExpiryArg exp;
  if (!expiryValue(ctx, cmd, kind, args[2], exp)) {
    return;
  }
  auto fn = [&](kv::Txn& t) { t.put(0, args[3], exp.atMs); };
  Status s = updateKey(ctx, args[1], fn);
  if (!s) {
    engineError(ctx, s);
  } else {
    ctx.out.ok();
  }
}

}  // namespace

void cmdSetEx(Context& ctx, Args args) { setWithExpiry(ctx, args, "setex", ExpiryArg::kEx); }
void cmdPSetEx(Context& ctx, Args args) { setWithExpiry(ctx, args, "psetex", ExpiryArg::kPx); }

void cmdGetDel(Context& ctx, Args args) {
  std::optional<std::string> old;
  auto fn = [&](kv::Txn& t) {
    if (const std::string* v = t.value(0)) {
      old = *v;
      t.erase(0);
    }
  };
  replyOld(ctx, updateKey(ctx, args[1], fn), old);
}

// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]
void cmdGetEx(Context& ctx, Args args) {
  ExpiryParse parse;
  for (size_t i = 2; i < args.size(); ++i) {
    if (!parse.take(args, i, false, true)) {
      ctx.out.error(kSyntaxErr);
      return;
    }
  }
  ExpiryArg exp;
  if (!parse.finish(ctx, "getex", exp)) {
    return;
  }
  std::optional<std::string> old;
  auto fn = [&](kv::Txn& t) {
    const std::string* v = t.value(0);
    if (!v) {
      return;
    }
    old = *v;
    if (exp.kind == ExpiryArg::kPersist && t.expireAt(0) != kv::kNoExpiry) {
      t.put(0, *old, kv::kNoExpiry);
    } else if (exp.kind != ExpiryArg::kNone && exp.kind != ExpiryArg::kPersist) {
      t.put(0, *old, exp.atMs);
    }
  };
  replyOld(ctx, updateKey(ctx, args[1], fn), old);
}

void cmdGetSet(Context& ctx, Args args) {
  std::optional<std::string> old;
  auto fn = [&](kv::Txn& t) {
    if (const std::string* v = t.value(0)) {
      old = *v;
    }
    t.put(0, args[2], kv::kNoExpiry);
  };
  replyOld(ctx, updateKey(ctx, args[1], fn), old);
}

// MGET reads each key on its own (not one atomic snapshot across shards; docs/compat-redis.md says so).
void cmdMGet(Context& ctx, Args args) {
  ctx.out.array(args.size() - 1);
  Context* c = &ctx;
  for (size_t i = 1; i < args.size(); ++i) {
    Status s = ctx.engine.read(args[i], [c](std::string_view v, int64_t) { c->out.bulk(v); });
    if (s) {
      ++ctx.session.hits;
    } else {
      ++ctx.session.misses;
      ctx.out.null();  // absent, expired, or unreadable: MGET reports nil, as Redis does for wrong types
    }
  }
}

namespace {

// MSET / MSETNX: pairs in chunks of kMaxTxnKeys keys; each chunk is atomic. MSETNX is only offered atomic
// when it fits one chunk (a larger one is refused rather than half-applied).
void msetImpl(Context& ctx, Args args, bool nx, std::string_view cmd) {
  if (args.size() < 3 || args.size() % 2 == 0) {
    wrongArity(ctx, cmd);
    return;
  }
  size_t pairs = (args.size() - 1) / 2;
  if (nx && pairs > kMaxTxnKeys) {
    ctx.out.error("ERR MSETNX takes at most 1024 keys in Ember");
    return;
  }
  uint32_t maxValue = ctx.engine.options().maxValueBytes;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (args[i].size() > maxValue) {
      engineError(ctx, Status(Code::kEntityTooLarge, ""));
      return;
    }
  }
  std::vector<std::string_view> keys;
  bool wrote = true;
  for (size_t first = 0; first < pairs; first += kMaxTxnKeys) {
    size_t n = std::min(kMaxTxnKeys, pairs - first);
    keys.clear();
    for (size_t j = 0; j < n; ++j) {
      keys.push_back(args[1 + 2 * (first + j)]);
    }
    auto fn = [&](kv::Txn& t) {
      if (nx) {
        for (size_t j = 0; j < n; ++j) {
          if (t.exists(j)) {
            wrote = false;
            return;
          }
        }
      }
      for (size_t j = 0; j < n; ++j) {
        t.put(j, args[2 + 2 * (first + j)], kv::kNoExpiry);
      }
    };
    Status s = ctx.engine.update(keys, fn, &ctx.writes);
    if (!s) {
      engineError(ctx, s);
      return;
    }
  }
  if (nx) {
    ctx.out.integer(wrote ? 1 : 0);
  } else {
    ctx.out.ok();
  }
}

}  // namespace

void cmdMSet(Context& ctx, Args args) { msetImpl(ctx, args, false, "mset"); }
void cmdMSetNx(Context& ctx, Args args) { msetImpl(ctx, args, true, "msetnx"); }

void cmdStrlen(Context& ctx, Args args) {
  int64_t len = 0;
  Status s = ctx.engine.read(args[1], [&len](std::string_view v, int64_t) {
    len = static_cast<int64_t>(v.size());
  });
  if (!s && s.code() != Code::kNotFound) {
    engineError(ctx, s);
    return;
  }
  ctx.out.integer(len);
}

void cmdGetRange(Context& ctx, Args args) {
  int64_t start = 0;
  int64_t end = 0;
  if (!parseInt(args[2], start) || !parseInt(args[3], end)) {
    ctx.out.error(kNotIntegerErr);
    return;
  }
  Context* c = &ctx;
  Status s = ctx.engine.read(args[1], [c, start, end](std::string_view v, int64_t) mutable {
    int64_t len = static_cast<int64_t>(v.size());
    // Redis: negative start and end both -> empty when start > end; indexes count from the end.
    if (start < 0 && end < 0 && start > end) {
      c->out.bulk("");
      return;
    }
    if (start < 0) {
      start = std::max<int64_t>(len + start, 0);
    }
    if (end < 0) {
      end = std::max<int64_t>(len + end, 0);
    }
    if (end >= len) {
      end = len - 1;
    }
    if (len == 0 || start > end) {
      c->out.bulk("");
      return;
    }
    c->out.bulk(v.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
  });
  if (s.code() == Code::kNotFound) {
    ctx.out.bulk("");
  } else if (!s) {
    engineError(ctx, s);
  }
}

void cmdSetRange(Context& ctx, Args args) {
  int64_t offset = 0;
  if (!parseInt(args[2], offset)) {
    ctx.out.error(kNotIntegerErr);
    return;
  }
  if (offset < 0) {
    ctx.out.error("ERR offset is out of range");
    return;
  }
  std::string_view piece = args[3];
  uint64_t maxValue = ctx.engine.options().maxValueBytes;
  if (!piece.empty() && static_cast<uint64_t>(offset) + piece.size() > maxValue) {
    ctx.out.error("ERR string exceeds maximum allowed size (" + std::to_string(maxValue) +
                  " bytes, [kv] max_value_bytes)");
    return;
  }
  int64_t newLen = 0;
  auto fn = [&](kv::Txn& t) {
    const std::string* v = t.value(0);
    if (piece.empty()) {  // no change, not even creation
      newLen = v ? static_cast<int64_t>(v->size()) : 0;
      return;
    }
    std::string next = v ? *v : std::string();
    size_t off = static_cast<size_t>(offset);
    if (next.size() < off + piece.size()) {
      next.resize(off + piece.size(), '\0');
    }
    next.replace(off, piece.size(), piece);
    newLen = static_cast<int64_t>(next.size());
    t.put(0, next, t.expireAt(0));
  };
  Status s = updateKey(ctx, args[1], fn);
  replyInteger(ctx, s, newLen);
}

void cmdAppend(Context& ctx, Args args) {
  std::string_view piece = args[2];
  int64_t newLen = 0;
  bool tooBig = false;
  uint64_t maxValue = ctx.engine.options().maxValueBytes;
  auto fn = [&](kv::Txn& t) {
    const std::string* v = t.value(0);
    size_t cur = v ? v->size() : 0;
    if (cur + piece.size() > maxValue) {
      tooBig = true;
      return;
    }
    std::string next;
    next.reserve(cur + piece.size());
    if (v) {
      next = *v;
    }
    next.append(piece);
    newLen = static_cast<int64_t>(next.size());
    t.put(0, next, t.expireAt(0));
  };
  Status s = updateKey(ctx, args[1], fn);
  if (!s) {
    engineError(ctx, s);
  } else if (tooBig) {
    ctx.out.error("ERR string exceeds maximum allowed size (" + std::to_string(maxValue) +
                  " bytes, [kv] max_value_bytes)");
  } else {
    ctx.out.integer(newLen);
  }
}

void cmdIncr(Context& ctx, Args args) { incrBy(ctx, args[1], 1); }
void cmdDecr(Context& ctx, Args args) { incrBy(ctx, args[1], -1); }

void cmdIncrBy(Context& ctx, Args args) {
  int64_t d = 0;
  if (!parseInt(args[2], d)) {
    ctx.out.error(kNotIntegerErr);
    return;
  }
  incrBy(ctx, args[1], d);
}

void cmdDecrBy(Context& ctx, Args args) {
  int64_t d = 0;
  if (!parseInt(args[2], d)) {
    ctx.out.error(kNotIntegerErr);
    return;
  }
  if (d == std::numeric_limits<int64_t>::min()) {
    ctx.out.error("ERR decrement would overflow");
    return;
  }
  incrBy(ctx, args[1], -d);
}

// INCRBYFLOAT computes in long double and prints the result as Redis does (%.17Lf, trailing zeros and a
// trailing dot dropped, "-0" as "0"), so 0.1 + 0.2 reads back as "0.3" on both servers.
void cmdIncrByFloat(Context& ctx, Args args) {
  long double incr = 0;
  if (!parseLongDouble(args[2], incr)) {
    ctx.out.error(kNotFloatErr);
    return;
  }
  const char* err = nullptr;
  std::string text;
  auto fn = [&](kv::Txn& t) {
    long double cur = 0;
    if (const std::string* v = t.value(0); v && !parseLongDouble(*v, cur)) {
      err = "ERR value is not a valid float";
      return;
    }
    long double r = cur + incr;
    if (std::isnan(r) || std::isinf(r)) {
      err = "ERR increment would produce NaN or Infinity";
      return;
    }
    text = formatLongDouble(r);
    if (text.size() > ctx.engine.options().maxValueBytes) {
      err = "ERR increment would produce a value over [kv] max_value_bytes";
      return;
    }
    t.put(0, text, t.expireAt(0));
  };
  Status s = updateKey(ctx, args[1], fn);
  if (!s) {
    engineError(ctx, s);
  } else if (err) {
    ctx.out.error(err);
  } else {
    ctx.out.bulk(text);
  }
}

}  // namespace ember::resp
