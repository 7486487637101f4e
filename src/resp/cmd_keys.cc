// Keyspace commands (https://redis.io/docs/latest/commands/?group=generic): DEL, EXISTS, TYPE, the EXPIRE
// family, TTLs, SCAN, KEYS, RANDOMKEY, RENAME. Ember has one type (string) and one database (0).

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "resp/command.h"
#include "resp/glob.h"

namespace ember::resp {

namespace {

using Args = std::span<const std::string_view>;

// The distinct keys of args[1..]: DEL k k deletes (and counts) k once.
std::vector<std::string_view> distinctKeys(Args args) {
  std::vector<std::string_view> keys(args.begin() + 1, args.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

// DEL / UNLINK: atomic per chunk of 1024 distinct keys.
void cmdDel(Context& ctx, Args args) {
  std::vector<std::string_view> keys = distinctKeys(args);
  int64_t removed = 0;
  for (size_t first = 0; first < keys.size(); first += kMaxTxnKeys) {
    size_t n = std::min(kMaxTxnKeys, keys.size() - first);
    auto fn = [&](kv::Txn& t) {
      for (size_t i = 0; i < t.size(); ++i) {
        if (t.exists(i)) {
          t.erase(i);
          ++removed;
        }
      }
    };
    Status s = ctx.engine.update(std::span(keys).subspan(first, n), fn, &ctx.writes);
    if (!s) {
      engineError(ctx, s);
      return;
    }
  }
  ctx.out.integer(removed);
}

// EXISTS counts every argument, duplicates included (Redis: EXISTS k k = 2).
void cmdExists(Context& ctx, Args args) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    if (ctx.engine.expiry(args[i])) {
      ++n;
    }
  }
  ctx.out.integer(n);
}

void cmdTouch(Context& ctx, Args args) { cmdExists(ctx, args); }

void cmdType(Context& ctx, Args args) {
  ctx.out.simple(ctx.engine.expiry(args[1]) ? "string" : "none");
}

namespace {

enum ExpireFlags : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// EXPIRE key n [NX | XX | GT | LT] and its PEXPIRE / EXPIREAT / PEXPIREAT forms.
void expireImpl(Context& ctx, Args args, std::string_view cmd, bool seconds, bool relative) {
  int64_t v = 0;
  if (!parseInt(args[2], v)) {
    ctx.out.error(kNotIntegerErr);
    return;
  }
  unsigned flags = 0;
  for (size_t i = 3; i < args.size(); ++i) {
    if (equalsIgnoreCase(args[i], "nx")) {
      flags |= kNx;
    } else if (equalsIgnoreCase(args[i], "xx")) {
      flags |= kXx;
    } else if (equalsIgnoreCase(args[i], "gt")) {
      flags |= kGt;
    } else if (equalsIgnoreCase(args[i], "lt")) {
      flags |= kLt;
    } else {
      ctx.out.error("ERR Unsupported option " + std::string(args[i]));
      return;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    ctx.out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if ((flags & kGt) && (flags & kLt)) {
    ctx.out.error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  int64_t when = v;
  if ((seconds && __builtin_mul_overflow(v, int64_t{1000}, &when)) ||
      (relative && __builtin_add_overflow(when, nowUnixMs(), &when))) {
    ctx.out.error("ERR invalid expire time in '" + std::string(cmd) + "' command");
    return;
  }
  int64_t result = 0;
  auto fn = [&](kv::Txn& t) {
    const std::string* value = t.value(0);
    if (!value) {
      return;
    }
    int64_t cur = t.expireAt(0);
    bool has = cur != kv::kNoExpiry;
    if (((flags & kNx) && has) || ((flags & kXx) && !has) ||
        ((flags & kGt) && (!has || when <= cur)) || ((flags & kLt) && has && when >= cur)) {
      return;
    }
    if (when <= nowUnixMs()) {
      t.erase(0);
    } else {
      t.put(0, *value, when);
    }
    result = 1;
  };
  Status s = updateKey(ctx, args[1], fn);
  replyInteger(ctx, s, result);
}

// TTL family: -2 absent, -1 no expiry.
void ttlImpl(Context& ctx, Args args, bool ms, bool absolute) {
  auto exp = ctx.engine.expiry(args[1]);
  if (!exp) {
    if (exp.error().code() == Code::kNotFound) {
      ctx.out.integer(-2);
    } else {
      engineError(ctx, exp.error());
    }
    return;
  }
  if (*exp == kv::kNoExpiry) {
    ctx.out.integer(-1);
    return;
  }
  int64_t v = absolute ? *exp : std::max<int64_t>(*exp - nowUnixMs(), 0);
  if (!ms) {
    v = absolute ? v / 1000 : (v + 500) / 1000;
  }
  ctx.out.integer(v);
}

}  // namespace

void cmdExpire(Context& ctx, Args args) { expireImpl(ctx, args, "expire", true, true); }
void cmdPExpire(Context& ctx, Args args) { expireImpl(ctx, args, "pexpire", false, true); }
void cmdExpireAt(Context& ctx, Args args) { expireImpl(ctx, args, "expireat", true, false); }
void cmdPExpireAt(Context& ctx, Args args) { expireImpl(ctx, args, "pexpireat", false, false); }
void cmdTtl(Context& ctx, Args args) { ttlImpl(ctx, args, false, false); }
void cmdPTtl(Context& ctx, Args args) { ttlImpl(ctx, args, true, false); }
void cmdExpireTime(Context& ctx, Args args) { ttlImpl(ctx, args, false, true); }
void cmdPExpireTime(Context& ctx, Args args) { ttlImpl(ctx, args, true, true); }

void cmdPersist(Context& ctx, Args args) {
  int64_t result = 0;
  auto fn = [&](kv::Txn& t) {
    const std::string* value = t.value(0);
    if (value && t.expireAt(0) != kv::kNoExpiry) {
      t.put(0, *value, kv::kNoExpiry);
      result = 1;
    }
  };
  Status s = updateKey(ctx, args[1], fn);
  replyInteger(ctx, s, result);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void cmdScan(Context& ctx, Args args) {
  // The cursor is read as Redis's strtoul does: an optional sign ("-1" wraps to 2^64 - 1), decimal digits
  // below 2^64, nothing else; an empty cursor is 0.
  uint64_t cursor = 0;
  {
    std::string_view c = args[1];
    bool negative = !c.empty() && c[0] == '-';
    if (!c.empty() && (c[0] == '-' || c[0] == '+')) {
      c.remove_prefix(1);
      if (c.empty()) {
        ctx.out.error("ERR invalid cursor");
        return;
      }
    }
    auto r = std::from_chars(c.data(), c.data() + c.size(), cursor);
    if (!c.empty() && (r.ec != std::errc() || r.ptr != c.data() + c.size())) {
      ctx.out.error("ERR invalid cursor");
      return;
    }
    if (negative) {
      cursor = 0 - cursor;
    }
  }
  std::string_view pattern;
  bool hasPattern = false;
  int64_t count = 10;
  bool typeMatches = true;
  for (size_t i = 2; i < args.size(); ++i) {
    bool hasValue = i + 1 < args.size();
    if (equalsIgnoreCase(args[i], "match") && hasValue) {
      pattern = args[++i];
      hasPattern = pattern != "*";
    } else if (equalsIgnoreCase(args[i], "count") && hasValue) {
      if (!parseInt(args[++i], count)) {
        ctx.out.error(kNotIntegerErr);
        return;
      }
      if (count < 1) {
        ctx.out.error(kSyntaxErr);
        return;
      }
    } else if (equalsIgnoreCase(args[i], "type") && hasValue) {
      typeMatches = equalsIgnoreCase(args[++i], "string");
    } else {
      ctx.out.error(kSyntaxErr);
      return;
    }
  }
  std::vector<std::string> keys;
  size_t want = static_cast<size_t>(std::min<int64_t>(count, 100'000));
  uint64_t next = ctx.engine.scan(cursor, want, [&](std::string_view key, uint32_t, int64_t) {
    if (typeMatches && (!hasPattern || globMatch(pattern, key))) {
      keys.emplace_back(key);
    }
  });
  ctx.out.array(2);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, next);
  ctx.out.bulk(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  ctx.out.array(keys.size());
  for (const std::string& k : keys) {
    ctx.out.bulk(k);
  }
}

// KEYS walks the whole key space, so it is refused above [kv] max_keys_pattern keys (SCAN is the way).
void cmdKeys(Context& ctx, Args args) {
  uint64_t total = ctx.engine.size();
  if (total > ctx.server.options->maxKeysPattern) {
    ctx.out.error("ERR KEYS would walk " + std::to_string(total) + " keys, more than [kv] " +
                  "max_keys_pattern (" + std::to_string(ctx.server.options->maxKeysPattern) +
                  "); use SCAN");
    return;
  }
  std::string_view pattern = args[1];
  bool all = pattern == "*";
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    cursor = ctx.engine.scan(cursor, 1024, [&](std::string_view key, uint32_t, int64_t) {
      if (all || globMatch(pattern, key)) {
        keys.emplace_back(key);
      }
    });
  } while (cursor != 0);
  ctx.out.array(keys.size());
  for (const std::string& k : keys) {
    ctx.out.bulk(k);
  }
}

void cmdRandomKey(Context& ctx, Args) {
  auto k = ctx.engine.randomKey();
  if (k) {
    ctx.out.bulk(*k);
  } else if (k.error().code() == Code::kNotFound) {
    ctx.out.null();
  } else {
    engineError(ctx, k.error());
  }
}

namespace {

void renameImpl(Context& ctx, Args args, bool nx) {
  bool missing = false;
  bool done = false;
  auto fn = [&](kv::Txn& t) {
    const std::string* v = t.value(0);
    if (!v) {
      missing = true;
      return;
    }
    if (nx && t.exists(1)) {
      return;
    }
    done = true;
    if (args[1] == args[2]) {
      return;  // renaming a key to itself changes nothing (RENAMENX k k answers 0 above)
    }
    t.put(1, *v, t.expireAt(0));
    t.erase(0);
  };
  std::string_view keys[2] = {args[1], args[2]};
  Status s = ctx.engine.update(keys, fn, &ctx.writes);
  if (!s) {
    engineError(ctx, s);
  } else if (missing) {
    ctx.out.error("ERR no such key");
  } else if (nx) {
    ctx.out.integer(done ? 1 : 0);
  } else {
    ctx.out.ok();
  }
}

}  // namespace

void cmdRename(Context& ctx, Args args) { renameImpl(ctx, args, false); }
void cmdRenameNx(Context& ctx, Args args) { renameImpl(ctx, args, true); }

}  // namespace ember::resp
