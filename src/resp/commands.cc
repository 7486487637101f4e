// The command table, its lookup, dispatch with Redis's error replies, and the small helpers every handler
// shares (integer/float parsing, engine error mapping).
//
// Names, arities, flags and key positions follow Redis 7's COMMAND output so that client libraries (which
// read COMMAND to route keys, e.g. cluster clients) see what they expect. Containers (CLIENT, COMMAND,
// CONFIG, CLUSTER, MEMORY) list their subcommands; a subcommand's handler is the container's, which switches
// on args[1] itself (dispatch has already checked the subcommand's arity and permissions).

#include <time.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "resp/command.h"

namespace ember::resp {
namespace {

constexpr uint32_t kWriteOom = kWrite | kDenyOom;
constexpr uint32_t kWriteOomFast = kWrite | kDenyOom | kFast;
constexpr uint32_t kReadFast = kReadOnly | kFast;
constexpr uint32_t kConnFlags = kLoading | kStale;  // connection commands Redis runs while loading

// Builds one spec; keeps the table below to one line per command.
constexpr CommandSpec cmd(std::string_view name, int arity, uint32_t flags, int firstKey, int lastKey,
                          int step, std::string_view group, std::string_view since, std::string_view summary,
                          Handler handler, std::span<const CommandSpec> subcommands = {}) {
  return CommandSpec{name,  arity, flags,   firstKey, lastKey,    step,
                     group, since, summary, handler,  subcommands};
}

// ---- subcommands ---------------------------------------------------------------------------------------

constexpr std::array kClientSubcommands = {
    cmd("client|id", 2, kConnFlags, 0, 0, 0, "connection", "5.0.0",
        "Returns the unique client ID of the connection.", cmdClient),
    cmd("client|getname", 2, kConnFlags, 0, 0, 0, "connection", "2.6.9",
        "Returns the name of the connection.", cmdClient),
    cmd("client|setname", 3, kConnFlags, 0, 0, 0, "connection", "2.6.9", "Sets the connection name.",
        cmdClient),
    cmd("client|setinfo", 4, kConnFlags, 0, 0, 0, "connection", "7.2.0",
        "Sets information specific to the client or connection.", cmdClient),
    cmd("client|info", 2, kConnFlags, 0, 0, 0, "connection", "6.2.0",
        "Returns information about the connection.", cmdClient),
    cmd("client|list", -2, kAdmin | kConnFlags, 0, 0, 0, "connection", "2.4.0", "Lists open connections.",
        cmdClient),
    cmd("client|kill", -3, kAdmin | kConnFlags, 0, 0, 0, "connection", "2.4.0",
        "Terminates open connections.", cmdClient),
    cmd("client|no-evict", 3, kAdmin | kConnFlags, 0, 0, 0, "connection", "7.0.0",
        "Sets the client eviction mode of the connection.", cmdClient),
    cmd("client|no-touch", 3, kConnFlags, 0, 0, 0, "connection", "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", cmdClient),
    cmd("client|reply", 3, kConnFlags, 0, 0, 0, "connection", "3.2.0",
        "Instructs the server whether to reply to commands.", cmdClient),
    cmd("client|getredir", 2, kConnFlags, 0, 0, 0, "connection", "6.0.0",
        "Returns the client ID to which the connection's tracking notifications are redirected.", cmdClient),
    cmd("client|help", 2, kConnFlags, 0, 0, 0, "connection", "5.0.0",
        "Returns helpful text about the different subcommands.", cmdClient),
};

constexpr std::array kCommandSubcommands = {
    cmd("command|count", 2, kConnFlags, 0, 0, 0, "server", "2.8.13", "Returns a count of commands.",
        cmdCommand),
    cmd("command|docs", -2, kConnFlags, 0, 0, 0, "server", "7.0.0",
        "Returns documentary information about one, multiple or all commands.", cmdCommand),
    cmd("command|info", -2, kConnFlags, 0, 0, 0, "server", "2.8.13",
        "Returns information about one, multiple or all commands.", cmdCommand),
    cmd("command|list", -2, kConnFlags, 0, 0, 0, "server", "7.0.0", "Returns a list of command names.",
        cmdCommand),
    cmd("command|getkeys", -3, kConnFlags, 0, 0, 0, "server", "2.8.13",
        "Extracts the key names from an arbitrary command.", cmdCommand),
    cmd("command|help", 2, kConnFlags, 0, 0, 0, "server", "5.0.0",
        "Returns helpful text about the different subcommands.", cmdCommand),
};

constexpr std::array kConfigSubcommands = {
    cmd("config|get", -3, kAdmin | kConnFlags, 0, 0, 0, "server", "2.0.0",
        "Returns the effective values of configuration parameters.", cmdConfig),
    cmd("config|set", -4, kAdmin | kConnFlags, 0, 0, 0, "server", "2.0.0",
        "Sets configuration parameters in-flight.", cmdConfig),
    cmd("config|resetstat", 2, kAdmin | kConnFlags, 0, 0, 0, "server", "2.0.0",
        "Resets the server's statistics.", cmdConfig),
    cmd("config|rewrite", 2, kAdmin | kConnFlags, 0, 0, 0, "server", "2.8.0",
        "Persists the effective configuration to file.", cmdConfig),
    cmd("config|help", 2, kConnFlags, 0, 0, 0, "server", "5.0.0",
        "Returns helpful text about the different subcommands.", cmdConfig),
};

constexpr std::array kClusterSubcommands = {
    cmd("cluster|keyslot", 3, kStale, 0, 0, 0, "cluster", "3.0.0", "Returns the hash slot for a key.",
        cmdCluster),
    cmd("cluster|info", 2, kStale, 0, 0, 0, "cluster", "3.0.0",
        "Returns information about the state of a node.", cmdCluster),
    cmd("cluster|myid", 2, kStale, 0, 0, 0, "cluster", "3.0.0", "Returns the ID of a node.", cmdCluster),
    cmd("cluster|nodes", 2, kStale, 0, 0, 0, "cluster", "3.0.0",
        "Returns the cluster configuration for a node.", cmdCluster),
    cmd("cluster|slots", 2, kStale, 0, 0, 0, "cluster", "3.0.0",
        "Returns the mapping of cluster slots to nodes.", cmdCluster),
    cmd("cluster|shards", 2, kStale, 0, 0, 0, "cluster", "7.0.0",
        "Returns the mapping of cluster slots to shards.", cmdCluster),
    cmd("cluster|help", 2, kConnFlags, 0, 0, 0, "cluster", "5.0.0",
        "Returns helpful text about the different subcommands.", cmdCluster),
};

constexpr std::array kMemorySubcommands = {
    cmd("memory|usage", -3, kReadOnly, 2, 2, 1, "server", "4.0.0", "Estimates the memory usage of a key.",
        cmdMemory),
    cmd("memory|help", 2, kConnFlags, 0, 0, 0, "server", "4.0.0",
        "Returns helpful text about the different subcommands.", cmdMemory),
};

// ---- top-level commands --------------------------------------------------------------------------------

constexpr std::array kCommands = {
    // strings
    cmd("get", 2, kReadFast, 1, 1, 1, "string", "1.0.0", "Returns the string value of a key.", cmdGet),
    cmd("set", -3, kWriteOom, 1, 1, 1, "string", "1.0.0",
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", cmdSet),
    cmd("setnx", 3, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Set the string value of a key only when the key doesn't exist.", cmdSetNx),
    cmd("setex", 4, kWriteOom, 1, 1, 1, "string", "2.0.0",
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", cmdSetEx),
    cmd("psetex", 4, kWriteOom, 1, 1, 1, "string", "2.6.0",
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it "
        "doesn't "
        "exist.",
        cmdPSetEx),
    cmd("getdel", 2, kWrite | kFast, 1, 1, 1, "string", "6.2.0",
        "Returns the string value of a key after deleting the key.", cmdGetDel),
    cmd("getex", -2, kWrite | kFast, 1, 1, 1, "string", "6.2.0",
        "Returns the string value of a key after setting its expiration time.", cmdGetEx),
    cmd("getset", 3, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Returns the previous string value of a key after setting it to a new value.", cmdGetSet),
    cmd("mget", -2, kReadFast, 1, -1, 1, "string", "1.0.0",
        "Atomically returns the string values of one or more keys.", cmdMGet),
    cmd("mset", -3, kWriteOom, 1, -1, 2, "string", "1.0.1",
        "Atomically creates or modifies the string values of one or more keys.", cmdMSet),
    cmd("msetnx", -3, kWriteOom, 1, -1, 2, "string", "1.0.1",
        "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        cmdMSetNx),
    cmd("strlen", 2, kReadFast, 1, 1, 1, "string", "2.2.0", "Returns the length of a string value.",
        cmdStrlen),
    cmd("getrange", 4, kReadOnly, 1, 1, 1, "string", "2.4.0",
        "Returns a substring of the string stored at a key.", cmdGetRange),
    cmd("substr", 4, kReadOnly, 1, 1, 1, "string", "1.0.0", "Returns a substring from a string value.",
        cmdGetRange),
    cmd("setrange", 4, kWriteOom, 1, 1, 1, "string", "2.2.0",
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        cmdSetRange),
    cmd("append", 3, kWriteOomFast, 1, 1, 1, "string", "2.0.0",
        "Appends a string to the value of a key. Creates the key if it doesn't exist.", cmdAppend),
    cmd("incr", 2, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        cmdIncr),
    cmd("decr", 2, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        cmdDecr),
    cmd("incrby", 3, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't "
        "exist.",
        cmdIncrBy),
    cmd("decrby", 3, kWriteOomFast, 1, 1, 1, "string", "1.0.0",
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't "
        "exist.",
        cmdDecrBy),
    cmd("incrbyfloat", 3, kWriteOomFast, 1, 1, 1, "string", "2.6.0",
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't "
        "exist.",
        cmdIncrByFloat),
    // keyspace
    cmd("del", -2, kWrite, 1, -1, 1, "generic", "1.0.0", "Deletes one or more keys.", cmdDel),
    cmd("unlink", -2, kWrite | kFast, 1, -1, 1, "generic", "4.0.0",
        "Asynchronously deletes one or more keys.", cmdDel),
    cmd("exists", -2, kReadFast, 1, -1, 1, "generic", "1.0.0", "Determines whether one or more keys exist.",
        cmdExists),
    cmd("touch", -2, kReadFast, 1, -1, 1, "generic", "3.2.1",
        "Returns the number of existing keys out of those specified after updating the time they were last "
        "accessed.",
        cmdTouch),
    cmd("type", 2, kReadFast, 1, 1, 1, "generic", "1.0.0", "Determines the type of value stored at a key.",
        cmdType),
    cmd("expire", -3, kWrite | kFast, 1, 1, 1, "generic", "1.0.0",
        "Sets the expiration time of a key in seconds.", cmdExpire),
    cmd("pexpire", -3, kWrite | kFast, 1, 1, 1, "generic", "2.6.0",
        "Sets the expiration time of a key in milliseconds.", cmdPExpire),
    cmd("expireat", -3, kWrite | kFast, 1, 1, 1, "generic", "1.2.0",
        "Sets the expiration time of a key to a Unix timestamp.", cmdExpireAt),
    cmd("pexpireat", -3, kWrite | kFast, 1, 1, 1, "generic", "2.6.0",
        "Sets the expiration time of a key to a Unix milliseconds timestamp.", cmdPExpireAt),
    cmd("ttl", 2, kReadFast, 1, 1, 1, "generic", "1.0.0", "Returns the expiration time in seconds of a key.",
        cmdTtl),
    cmd("pttl", 2, kReadFast, 1, 1, 1, "generic", "2.6.0",
        "Returns the expiration time in milliseconds of a key.", cmdPTtl),
    cmd("expiretime", 2, kReadFast, 1, 1, 1, "generic", "7.0.0",
        "Returns the expiration time of a key as a Unix timestamp.", cmdExpireTime),
    cmd("pexpiretime", 2, kReadFast, 1, 1, 1, "generic", "7.0.0",
        "Returns the expiration time of a key as a Unix milliseconds timestamp.", cmdPExpireTime),
    cmd("persist", 2, kWrite | kFast, 1, 1, 1, "generic", "2.2.0", "Removes the expiration time of a key.",
        cmdPersist),
    cmd("scan", -2, kReadOnly, 0, 0, 0, "generic", "2.8.0", "Iterates over the key names in the database.",
        cmdScan),
    cmd("keys", 2, kReadOnly, 0, 0, 0, "generic", "1.0.0", "Returns all key names that match a pattern.",
        cmdKeys),
    cmd("randomkey", 1, kReadOnly, 0, 0, 0, "generic", "1.0.0",
        "Returns a random key name from the database.", cmdRandomKey),
    cmd("rename", 3, kWrite, 1, 2, 1, "generic", "1.0.0", "Renames a key and overwrites the destination.",
        cmdRename),
    cmd("renamenx", 3, kWrite | kFast, 1, 2, 1, "generic", "1.0.0",
        "Renames a key only when the target key name doesn't exist.", cmdRenameNx),
    cmd("dbsize", 1, kReadFast, 0, 0, 0, "server", "1.0.0", "Returns the number of keys in the database.",
        cmdDbSize),
    cmd("flushdb", -1, kWrite, 0, 0, 0, "server", "1.0.0", "Remove all keys from the current database.",
        cmdFlushDb),
    cmd("flushall", -1, kWrite, 0, 0, 0, "server", "1.0.0", "Removes all keys from all databases.",
        cmdFlushDb),
    // connection
    cmd("ping", -1, kFast, 0, 0, 0, "connection", "1.0.0", "Returns the server's liveliness response.",
        cmdPing),
    cmd("echo", 2, kFast, 0, 0, 0, "connection", "1.0.0", "Returns the given string.", cmdEcho),
    cmd("select", 2, kFast | kConnFlags, 0, 0, 0, "connection", "1.0.0", "Changes the selected database.",
        cmdSelect),
    cmd("quit", -1, kNoAuth | kFast | kConnFlags, 0, 0, 0, "connection", "1.0.0", "Closes the connection.",
        cmdQuit),
    cmd("hello", -1, kNoAuth | kFast | kConnFlags, 0, 0, 0, "connection", "6.0.0",
        "Handshakes with the Redis server.", cmdHello),
    cmd("auth", -2, kNoAuth | kFast | kConnFlags, 0, 0, 0, "connection", "1.0.0",
        "Authenticates the connection.", cmdAuth),
    cmd("reset", 1, kNoAuth | kFast | kConnFlags, 0, 0, 0, "connection", "6.2.0", "Resets the connection.",
        cmdReset),
    cmd("multi", 1, kFast | kConnFlags, 0, 0, 0, "transactions", "1.2.0",
        "Starts a transaction.", cmdMulti),
    cmd("exec", 1, kConnFlags, 0, 0, 0, "transactions", "1.2.0",
        "Executes all commands in a transaction.", cmdExec),
    cmd("discard", 1, kFast | kConnFlags, 0, 0, 0, "transactions", "2.0.0",
        "Discards a transaction.", cmdDiscard),
    cmd("watch", -2, kFast | kConnFlags, 1, -1, 1, "transactions", "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction (not supported).", cmdWatch),
    cmd("unwatch", 1, kFast | kConnFlags, 0, 0, 0, "transactions", "2.2.0",
        "Forgets about watched keys of a transaction.", cmdUnwatch),
    cmd("client", -2, 0, 0, 0, 0, "connection", "2.4.0", "A container for client connection commands.",
        cmdClient, kClientSubcommands),
    // server
    cmd("command", -1, kConnFlags, 0, 0, 0, "server", "2.8.13",
        "Returns detailed information about all commands.", cmdCommand, kCommandSubcommands),
    cmd("info", -1, kConnFlags, 0, 0, 0, "server", "1.0.0",
        "Returns information and statistics about the server.", cmdInfo),
    cmd("config", -2, 0, 0, 0, 0, "server", "2.0.0", "A container for server configuration commands.",
        cmdConfig, kConfigSubcommands),
    cmd("time", 1, kFast | kConnFlags, 0, 0, 0, "server", "2.6.0", "Returns the server time.", cmdTime),
    cmd("save", 1, kAdmin, 0, 0, 0, "server", "1.0.0", "Synchronously saves the database(s) to disk.",
        cmdSave),
    cmd("bgsave", -1, kAdmin, 0, 0, 0, "server", "1.0.0", "Asynchronously saves the database(s) to disk.",
        cmdSave),
    cmd("lastsave", 1, kFast | kConnFlags, 0, 0, 0, "server", "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.", cmdLastSave),
    cmd("memory", -2, 0, 0, 0, 0, "server", "4.0.0", "A container for memory diagnostics commands.",
        cmdMemory, kMemorySubcommands),
    cmd("cluster", -2, 0, 0, 0, 0, "cluster", "3.0.0", "A container for Redis Cluster commands.", cmdCluster,
        kClusterSubcommands),
};

// ---- lookup --------------------------------------------------------------------------------------------
//
// findCommand runs once per request, so it must be cheap: an open-addressing table of 256 slots (4x the
// commands, so probes are short) over a hash of the lower-cased name, built once; lookups lower-case on the
// fly and compare without allocating.

constexpr size_t kMaxNameLen = 16;  // longer than any command name: rejected before hashing

inline char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

inline uint32_t hashLower(std::string_view s) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : s) {
    h = (h ^ static_cast<uint8_t>(lowerAscii(c))) * 16777619u;
  }
  return h;
}

class CommandIndex {
 public:
  static constexpr size_t kSlots = 256;
  static_assert(kCommands.size() * 3 < kSlots, "grow kSlots: keep the table at most a third full");

  CommandIndex() {
    slots_.fill(nullptr);
    for (const CommandSpec& spec : kCommands) {
      size_t i = hashLower(spec.name) & (kSlots - 1);
      while (slots_[i] != nullptr) {
        i = (i + 1) & (kSlots - 1);
      }
      slots_[i] = &spec;
    }
  }

  const CommandSpec* find(std::string_view name) const {
    if (name.empty() || name.size() > kMaxNameLen) {
      return nullptr;
    }
    for (size_t i = hashLower(name) & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const CommandSpec* spec = slots_[i];
      if (spec == nullptr) {
        return nullptr;
      }
      if (equalsIgnoreCase(spec->name, name)) {
        return spec;
      }
    }
  }

 private:
  std::array<const CommandSpec*, kSlots> slots_;
};

const CommandIndex& commandIndex() {
  static const CommandIndex index;
  return index;
}

// Redis's rejectCommandFormat: error text must not carry CR/LF (it would break the protocol).
void replyError(Context& ctx, std::string msg) {
  for (char& c : msg) {
    if (c == '\r' || c == '\n') {
      c = ' ';
    }
  }
  ctx.out.error(msg);
}

// "ERR unknown command 'foo', with args beginning with: 'a' 'b' ": the name cut at 128 bytes, then arguments
// while the list is under 128 bytes, each cut to what is left of those 128 (as Redis 7 does).
void unknownCommand(Context& ctx, std::span<const std::string_view> args) {
  std::string list;
  for (size_t i = 1; i < args.size() && list.size() < 128; ++i) {
    size_t room = 128 - list.size();
    list += '\'';
    list.append(args[i].substr(0, room));
    list += "' ";
  }
  std::string msg = "ERR unknown command '";
  msg.append(args[0].substr(0, 128));
  msg += "', with args beginning with: ";
  msg += list;
  replyError(ctx, std::move(msg));
}

const CommandSpec* findSubcommand(const CommandSpec& container, std::string_view sub) {
  for (const CommandSpec& spec : container.subcommands) {
    std::string_view name = spec.name.substr(container.name.size() + 1);  // after "client|"
    if (equalsIgnoreCase(name, sub)) {
      return &spec;
    }
  }
  return nullptr;
}

inline bool arityOk(int arity, size_t argc) {
  return arity >= 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
}

// The wall clock for CLIENT LIST's idle= only: the coarse clock is a few ms behind but costs a fraction of
// the precise one, and it runs on every command.
inline int64_t coarseNowUnixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

const CommandSpec* findCommand(std::string_view name) { return commandIndex().find(name); }

std::span<const CommandSpec> allCommands() { return kCommands; }

void dispatch(Context& ctx, std::span<const std::string_view> args) {
  if (args.empty()) {
    return;
  }
  const CommandSpec* spec = findCommand(args[0]);
  if (spec == nullptr) {
    unknownCommand(ctx, args);
    markMultiFailed(ctx);
    return;
  }
  if (!arityOk(spec->arity, args.size())) {
    wrongArity(ctx, spec->name);
    markMultiFailed(ctx);
    return;
  }
  if (!spec->subcommands.empty() && args.size() >= 2) {
    const CommandSpec* sub = findSubcommand(*spec, args[1]);
    if (sub == nullptr) {
      std::string msg = "ERR unknown subcommand '";
      msg.append(args[1].substr(0, 128));
      msg += "'. Try ";
      for (char c : args[0]) {
        msg += static_cast<char>(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
      }
      msg += " HELP.";
      replyError(ctx, std::move(msg));
      markMultiFailed(ctx);
      return;
    }
    spec = sub;
    if (!arityOk(spec->arity, args.size())) {
      wrongArity(ctx, spec->name);
      markMultiFailed(ctx);
      return;
    }
  }
  // As Redis: existence and arity first, then authentication, then permissions.
  Session& session = ctx.session;
  if (!session.authenticated && (spec->flags & kNoAuth) == 0) {
    ctx.out.error("NOAUTH Authentication required.");
    markMultiFailed(ctx);
    return;
  }
  if (session.readOnly && (spec->flags & (kWrite | kAdmin)) != 0) {
    std::string msg = "NOPERM User ";
    msg += session.user;
    msg += " has no permissions to run the '";
    msg += spec->name;
    msg += "' command";
    replyError(ctx, std::move(msg));
    markMultiFailed(ctx);
    return;
  }
  if (session.inMulti && queueInMulti(ctx, *spec, args)) {
    return;  // queued (+QUEUED): it runs at EXEC
  }
  session.lastCommand = spec->name;
  session.lastCommandUnixMs = coarseNowUnixMs();
  // Counted when the command runs, as Redis's total_commands_processed (rejected commands do not count);
  // the server folds session.commands into ServerState::totalCommands once per batch.
  ++session.commands;
  spec->handler(ctx, args);
}

Status updateKey(Context& ctx, std::string_view key, const std::function<void(kv::Txn&)>& fn) {
  std::string_view keys[1] = {key};
  return ctx.engine.update(keys, fn, &ctx.writes);
}

void replyInteger(Context& ctx, const Status& s, int64_t value) {
  if (!s) {
    engineError(ctx, s);
  } else {
    ctx.out.integer(value);
  }
}

void wrongArity(Context& ctx, std::string_view command) {
  std::string msg = "ERR wrong number of arguments for '";
  msg += command;
  msg += "' command";
  replyError(ctx, std::move(msg));
}

void engineError(Context& ctx, const Status& s) {
  const kv::Options& opts = ctx.engine.options();
  const std::string& detail = s.message();
  std::string msg;
  switch (s.code()) {
    case Code::kOk:
      msg = "ERR internal error: no error to report";  // a handler bug; never a success reply
      break;
    case Code::kEntityTooLarge:
      msg = "ERR value is larger than the maximum allowed (" + std::to_string(opts.maxValueBytes) + " bytes)";
      break;
    case Code::kInvalidKey:
    case Code::kKeyTooLong:
      msg = "ERR key is larger than the maximum allowed (" + std::to_string(opts.maxKeyBytes) + " bytes)";
      break;
    case Code::kQuotaExceeded:
      msg = "OOM command not allowed when used memory > 'maxmemory'.";
      break;
    case Code::kInsufficientStorage:
      msg = "ERR no space left on the data volume; the write was not applied";
      break;
    case Code::kIOError:
      msg = "ERR I/O error on the data volume; the command was not applied";
      break;
    case Code::kCorruption:
      msg = "ERR data corruption detected while reading the value";
      break;
    case Code::kBusy:
      msg = "BUSY Ember is busy; try again later";
      break;
    case Code::kUnavailable:
      msg = "ERR Ember is unavailable (shutting down or loading)";
      break;
    case Code::kTimeout:
      msg = "ERR the operation timed out";
      break;
    case Code::kNotFound:
    case Code::kNoSuchKey:
      msg = "ERR no such key";
      break;
    case Code::kPermissionDenied:
      msg = "NOPERM permission denied";
      break;
    default:
      msg = "ERR ";
      msg += detail.empty() ? std::string(codeName(s.code())) : detail;
      replyError(ctx, std::move(msg));
      return;
  }
  // Operational failures carry the engine's detail (which file, which errno); the limits and "no such key"
  // keep Redis's exact texts.
  bool withDetail = s.code() == Code::kInsufficientStorage || s.code() == Code::kIOError ||
                    s.code() == Code::kCorruption || s.code() == Code::kUnavailable ||
                    s.code() == Code::kTimeout || s.code() == Code::kBusy;
  if (withDetail && !detail.empty()) {
    msg += " (";
    msg += detail;
    msg += ')';
  }
  replyError(ctx, std::move(msg));
}

// Redis's string2ll: optional '-', no '+', no spaces, no leading zeros (except "0" itself), fits int64.
bool parseInt(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 20) {
    return false;
  }
  if (s.size() == 1 && s[0] == '0') {
    out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) {
      return false;
    }
  }
  if (s[i] < '1' || s[i] > '9') {
    return false;
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') {
      return false;
    }
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  constexpr uint64_t kMaxPos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kMaxPos + 1) {
      return false;
    }
    out = v == kMaxPos + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
  } else {
    if (v > kMaxPos) {
      return false;
    }
    out = static_cast<int64_t>(v);
  }
  return true;
}

// As Redis's string2ld: strtod over the whole string; leading space, trailing bytes, NaN, and overflow (or
// underflow to zero) are refused; "inf", "-inf", "1e3", "0x1p4", ".5" are accepted.
namespace {

// Redis's string2ld / strtod checks, for double and long double.
template <typename T>
bool parseFloating(std::string_view s, T& out) {
  constexpr size_t kMaxChars = 5 * 1024;  // Redis's MAX_LONG_DOUBLE_CHARS
  if (s.empty() || s.size() >= kMaxChars) {
    return false;
  }
  unsigned char first = static_cast<unsigned char>(s[0]);
  if (first == ' ' || (first >= '\t' && first <= '\r')) {
    return false;
  }
  char small[64];
  std::string large;
  const char* text;
  if (s.size() < sizeof(small)) {
    std::memcpy(small, s.data(), s.size());
    small[s.size()] = '\0';
    text = small;
  } else {
    large.assign(s);
    text = large.c_str();
  }
  char* end = nullptr;
  errno = 0;
  T v;
  if constexpr (std::is_same_v<T, long double>) {
    v = std::strtold(text, &end);
  } else {
    v = std::strtod(text, &end);
  }
  if (end != text + s.size() || std::isnan(v)) {
    return false;  // trailing bytes (or an embedded NUL), or NaN
  }
  if (errno == ERANGE && (std::isinf(v) || v == 0)) {
    return false;
  }
  out = v;
  return true;
}

}  // namespace

bool parseDouble(std::string_view s, double& out) { return parseFloating(s, out); }

bool parseLongDouble(std::string_view s, long double& out) { return parseFloating(s, out); }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

int64_t nowUnixMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace ember::resp
