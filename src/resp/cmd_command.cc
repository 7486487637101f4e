// COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS): client libraries read COMMAND to find the
// keys of a command (cluster routing), redis-cli reads COMMAND / COMMAND DOCS for its help. The reply shapes
// are Redis 7's; sets and maps degrade to arrays for RESP2 clients as Redis's do.

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "resp/command.h"
#include "resp/glob.h"

namespace ember::resp {
namespace {

// ---- COMMAND ---------------------------------------------------------------------------------------------

// A command by name, "client|kill" form included.
const CommandSpec* lookupAny(std::string_view name) {
  if (const CommandSpec* spec = findCommand(name)) {
    return spec;
  }
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) {
    return nullptr;
  }
  const CommandSpec* container = findCommand(name.substr(0, bar));
  if (container == nullptr) {
    return nullptr;
  }
  for (const CommandSpec& sub : container->subcommands) {
    if (equalsIgnoreCase(sub.name, name)) {
      return &sub;
    }
  }
  return nullptr;
}

template <size_t N>
struct Words {
  std::array<std::string_view, N> w{};
  size_t n = 0;
  void add(std::string_view s) {
    if (n < N) {
      w[n++] = s;
    }
  }
};

Words<10> flagNames(const CommandSpec& c) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kWrite, "write"}, {kReadOnly, "readonly"}, {kDenyOom, "denyoom"},
      {kAdmin, "admin"}, {kPubSub, "pubsub"},     {kLoading, "loading"},
      {kStale, "stale"}, {kFast, "fast"},         {kNoAuth, "no_auth"},
  };
  Words<10> out;
  for (const auto& [bit, name] : kNames) {
    if (c.flags & bit) {
      out.add(name);
    }
  }
  return out;
}

bool isDangerous(const CommandSpec& c) {
  return (c.flags & kAdmin) != 0 || c.name == "keys" || c.name == "flushdb" || c.name == "flushall";
}

// ACL categories as Redis derives them: read/write, the data type group, fast/slow, admin/dangerous.
Words<8> categories(const CommandSpec& c) {
  Words<8> out;
  if (c.flags & kWrite) {
    out.add("@write");
  }
  if (c.flags & kReadOnly) {
    out.add("@read");
  }
  if (c.group == "string") {
    out.add("@string");
  } else if (c.group == "generic" || c.name == "dbsize" || c.name == "flushdb" || c.name == "flushall") {
    out.add("@keyspace");
  }
  out.add((c.flags & kFast) ? "@fast" : "@slow");
  if (c.flags & kAdmin) {
    out.add("@admin");
  }
  if (isDangerous(c)) {
    out.add("@dangerous");
  }
  if (c.group == "connection") {
    out.add("@connection");
  }
  return out;
}

// Command tips (Redis 7): how a cluster client should fan a command out and merge its replies.
Words<3> tips(const CommandSpec& c) {
  Words<3> out;
  std::string_view n = c.name;
  if (n == "keys" || n == "scan" || n == "randomkey" || n == "client|list" || n == "client|info" ||
      n == "time" || n == "info" || n == "lastsave" || n == "memory|usage") {
    out.add("nondeterministic_output");
  }
  if (n == "keys" || n == "dbsize" || n == "flushdb" || n == "flushall") {
    out.add("request_policy:all_shards");
  } else if (n == "mget" || n == "mset" || n == "del" || n == "unlink" || n == "exists" || n == "touch") {
    out.add("request_policy:multi_shard");
  }
  if (n == "dbsize" || n == "del" || n == "unlink" || n == "exists" || n == "touch") {
    out.add("response_policy:agg_sum");
  } else if (n == "mset" || n == "flushdb" || n == "flushall") {
    out.add("response_policy:all_succeeded");
  }
  return out;
}

struct KeySpec {
  int index, lastKey, step;
  Words<4> flags;
};

// Key specs from the legacy (first, last, step) triple: one range spec, or one spec per key for commands with
// a fixed number of differently-used keys (RENAME: the source is read and deleted, the target overwritten).
std::vector<KeySpec> keySpecs(const CommandSpec& c) {
  std::vector<KeySpec> specs;
  if (c.firstKey <= 0) {
    return specs;
  }
  std::string_view n = c.name;
  Words<4> flags;
  if (c.flags & kReadOnly) {
    flags.add("RO");
    flags.add("access");
  } else if (n == "del" || n == "unlink") {
    flags.add("RM");
    flags.add("delete");
  } else if (n == "mset" || n == "msetnx" || n == "setex" || n == "psetex") {
    flags.add("OW");
    flags.add("update");
  } else {
    flags.add("RW");
    flags.add("access");
    flags.add("update");
  }
  if (n == "rename" || n == "renamenx") {
    Words<4> src, dst;
    src.add("RW");
    src.add("access");
    src.add("delete");
    dst.add("OW");
    dst.add("update");
    specs.push_back({1, 0, 1, src});
    specs.push_back({2, 0, 1, dst});
    return specs;
  }
  int last = c.lastKey < 0 ? c.lastKey : c.lastKey - c.firstKey;
  specs.push_back({c.firstKey, last, c.step, flags});
  return specs;
}

template <size_t N>
void writeStatusSet(ReplyWriter& out, const Words<N>& words) {
  out.set(words.n);
  for (size_t i = 0; i < words.n; ++i) {
    out.simple(words.w[i]);
  }
}

void writeCommandInfo(ReplyWriter& out, const CommandSpec& c) {
  out.array(10);
  out.bulk(c.name);
  out.integer(c.arity);
  writeStatusSet(out, flagNames(c));
  out.integer(c.firstKey);
  out.integer(c.lastKey);
  out.integer(c.step);
  writeStatusSet(out, categories(c));
  Words<3> t = tips(c);
  out.set(t.n);
  for (size_t i = 0; i < t.n; ++i) {
    out.bulk(t.w[i]);
  }
  std::vector<KeySpec> specs = keySpecs(c);
  out.set(specs.size());
  for (const KeySpec& k : specs) {
    out.map(3);
    out.bulk("flags");
    writeStatusSet(out, k.flags);
    out.bulk("begin_search");
    out.map(2);
    out.bulk("type");
    out.bulk("index");
    out.bulk("spec");
    out.map(1);
    out.bulk("index");
    out.integer(k.index);
    out.bulk("find_keys");
    out.map(2);
    out.bulk("type");
    out.bulk("range");
    out.bulk("spec");
    out.map(3);
    out.bulk("lastkey");
    out.integer(k.lastKey);
    out.bulk("keystep");
    out.integer(k.step);
    out.bulk("limit");
    out.integer(0);
  }
  out.set(c.subcommands.size());
  for (const CommandSpec& sub : c.subcommands) {
    writeCommandInfo(out, sub);
  }
}

// COMMAND DOCS entry: summary, since, group (all that redis-cli needs for HELP and its command list), and the
// subcommands of a container as a nested map.
void writeCommandDocs(ReplyWriter& out, const CommandSpec& c) {
  out.map(c.subcommands.empty() ? 3 : 4);
  out.bulk("summary");
  out.bulk(c.summary);
  out.bulk("since");
  out.bulk(c.since);
  out.bulk("group");
  out.bulk(c.group);
  if (!c.subcommands.empty()) {
    out.bulk("subcommands");
    out.map(c.subcommands.size());
    for (const CommandSpec& sub : c.subcommands) {
      out.bulk(sub.name);
      writeCommandDocs(out, sub);
    }
  }
}

void commandList(Context& ctx, std::span<const std::string_view> args) {
  enum class Filter { kNone, kModule, kAclCat, kPattern } filter = Filter::kNone;
  std::string_view value;
  if (args.size() == 5 && equalsIgnoreCase(args[2], "filterby")) {
    value = args[4];
    if (equalsIgnoreCase(args[3], "module")) {
      filter = Filter::kModule;
    } else if (equalsIgnoreCase(args[3], "aclcat")) {
      filter = Filter::kAclCat;
    } else if (equalsIgnoreCase(args[3], "pattern")) {
      filter = Filter::kPattern;
    } else {
      ctx.out.error(kSyntaxErr);
      return;
    }
  } else if (args.size() != 2) {
    ctx.out.error(kSyntaxErr);
    return;
  }
  auto keep = [&](const CommandSpec& c) {
    switch (filter) {
      case Filter::kNone:
        return true;
      case Filter::kModule:
        return false;  // no modules
      case Filter::kAclCat: {
        Words<8> cats = categories(c);
        for (size_t i = 0; i < cats.n; ++i) {
          if (equalsIgnoreCase(cats.w[i].substr(1), value)) {
            return true;
          }
        }
        return false;
      }
      case Filter::kPattern:
        return globMatch(value, c.name, true);
    }
    return false;
  };
  std::vector<std::string_view> names;
  for (const CommandSpec& c : allCommands()) {
    if (keep(c)) {
      names.push_back(c.name);
    }
    for (const CommandSpec& sub : c.subcommands) {
      if (keep(sub)) {
        names.push_back(sub.name);
      }
    }
  }
  ctx.out.array(names.size());
  for (std::string_view n : names) {
    ctx.out.bulk(n);
  }
}

void commandGetKeys(Context& ctx, std::span<const std::string_view> args) {
  std::span<const std::string_view> target = args.subspan(2);
  const CommandSpec* spec = findCommand(target[0]);
  if (spec != nullptr && !spec->subcommands.empty() && target.size() >= 2) {
    const CommandSpec* sub = nullptr;
    for (const CommandSpec& s : spec->subcommands) {
      if (equalsIgnoreCase(s.name.substr(spec->name.size() + 1), target[1])) {
        sub = &s;
      }
    }
    spec = sub;
  }
  if (spec == nullptr) {
    ctx.out.error("ERR Invalid command specified");
    return;
  }
  if (spec->firstKey <= 0) {
    ctx.out.error("ERR The command has no key arguments");
    return;
  }
  size_t argc = target.size();
  if ((spec->arity >= 0 && argc != static_cast<size_t>(spec->arity)) ||
      (spec->arity < 0 && argc < static_cast<size_t>(-spec->arity))) {
    ctx.out.error("ERR Invalid number of arguments specified for command");
    return;
  }
  int64_t last = spec->lastKey < 0 ? static_cast<int64_t>(argc) + spec->lastKey : spec->lastKey;
  std::vector<std::string_view> keys;
  for (int64_t i = spec->firstKey; i <= last && i < static_cast<int64_t>(argc); i += spec->step) {
    keys.push_back(target[static_cast<size_t>(i)]);
  }
  ctx.out.array(keys.size());
  for (std::string_view k : keys) {
    ctx.out.bulk(k);
  }
}

void replyLines(Context& ctx, std::initializer_list<std::string_view> lines) {
  ctx.out.array(lines.size());
  for (std::string_view line : lines) {
    ctx.out.simple(line);
  }
}

}  // namespace

void cmdCommand(Context& ctx, std::span<const std::string_view> args) {
  std::span<const CommandSpec> all = allCommands();
  if (args.size() == 1) {
    ctx.out.array(all.size());
    for (const CommandSpec& c : all) {
      writeCommandInfo(ctx.out, c);
    }
    return;
  }
  std::string_view sub = args[1];
  if (equalsIgnoreCase(sub, "count")) {
    ctx.out.integer(static_cast<int64_t>(all.size()));
  } else if (equalsIgnoreCase(sub, "info")) {
    if (args.size() == 2) {
      ctx.out.array(all.size());
      for (const CommandSpec& c : all) {
        writeCommandInfo(ctx.out, c);
      }
      return;
    }
    ctx.out.array(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) {
      if (const CommandSpec* c = lookupAny(args[i])) {
        writeCommandInfo(ctx.out, *c);
      } else {
        ctx.out.null();
      }
    }
  } else if (equalsIgnoreCase(sub, "docs")) {
    std::vector<const CommandSpec*> found;
    if (args.size() == 2) {
      for (const CommandSpec& c : all) {
        found.push_back(&c);
      }
    } else {
      for (size_t i = 2; i < args.size(); ++i) {
        if (const CommandSpec* c = lookupAny(args[i])) {
          found.push_back(c);
        }
      }
    }
    ctx.out.map(found.size());
    for (const CommandSpec* c : found) {
      ctx.out.bulk(c->name);
      writeCommandDocs(ctx.out, *c);
    }
  } else if (equalsIgnoreCase(sub, "list")) {
    commandList(ctx, args);
  } else if (equalsIgnoreCase(sub, "getkeys")) {
    commandGetKeys(ctx, args);
  } else {
    replyLines(ctx,
               {"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "(no subcommand)",
                "    Return details about all commands.", "COUNT", "    Return the total number of commands.",
                "DOCS [<command-name> ...]", "    Return documentation details about commands.",
                "INFO [<command-name> ...]", "    Return details about commands.",
                "LIST [FILTERBY (MODULE|ACLCAT|PATTERN) <x>]", "GETKEYS <full-command>"});
  }
}

}  // namespace ember::resp
