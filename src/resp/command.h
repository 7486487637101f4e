#pragma once
// The Redis command layer: one table of commands (name, arity, flags, key positions, docs) and the handlers
// that turn them into kv::Engine calls. Handlers are synchronous and never block: they read/update the engine,
// append a reply to ctx.out, and record their writes in ctx.writes (the server waits for durability, per the
// engine's mode, before it sends the replies of a batch).
//
// Handlers live by group: cmd_strings.cc (string commands), cmd_keys.cc (keyspace: DEL, EXPIRE*, TTL, SCAN,
// RENAME ...), cmd_server.cc (connection and server: HELLO, AUTH, CLIENT, COMMAND, INFO, CONFIG, DBSIZE,
// FLUSH*, ...; COMMAND in cmd_command.cc, INFO and CONFIG in cmd_info.cc). The table is in commands.cc.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kv/engine.h"
#include "resp/protocol.h"

namespace ember::resp {

// A user from [[kv.users]]: AUTH <name> <password> (or AUTH <password> for "default").
struct User {
  std::string name;
  std::string password;
  bool readOnly = false;  // may run only commands without kWrite / kAdmin
};

struct KvServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 6379;
  unsigned threads = 0;             // network threads (one io_context each); 0: cores - 1, at least 1
  uint32_t maxClients = 10'000;
  uint32_t idleTimeoutMs = 0;       // 0: never (Redis's default "timeout 0")
  bool allowFlush = true;           // FLUSHDB / FLUSHALL
  size_t maxKeysPattern = 1'000'000;  // KEYS refuses to walk more keys than this (use SCAN)
  std::vector<User> users;          // empty: no AUTH needed (as Redis's default user with nopass)
  Limits limits;
  std::string version = "7.0.0";    // redis_version reported by HELLO / INFO (what clients key features on)
};

struct Session;

// Process-wide state the server commands report (INFO, CLIENT LIST): counters are atomics updated by every
// connection.
struct ServerState {
  const KvServerOptions* options = nullptr;
  kv::Engine* engine = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int64_t startedUnixMs = 0;
  std::atomic<uint64_t> nextClientId{1};
  std::atomic<uint64_t> connectedClients{0};
  std::atomic<uint64_t> totalConnections{0};
  std::atomic<uint64_t> totalCommands{0};
  std::atomic<uint64_t> rejectedConnections{0};
  std::atomic<uint64_t> keyspaceHits{0};
  std::atomic<uint64_t> keyspaceMisses{0};
  std::atomic<uint64_t> netInputBytes{0};
  std::atomic<uint64_t> netOutputBytes{0};
  std::atomic<uint64_t> protocolErrors{0};
  std::atomic<uint16_t> port{0};    // the port actually bound (INFO tcp_port; the option may say 0)
  std::string dataDir;              // shown by INFO / CONFIG GET dir
  std::string durabilityName;       // "none" | "batch" | "sync"
  // Live connections for CLIENT LIST / CLIENT INFO: the server keeps this registry (see server.cc).
  struct ClientView {
    uint64_t id;
    std::string addr, laddr, name, user;
    int64_t createdUnixMs;
    int64_t lastCommandUnixMs;
    int proto;
    std::string lastCommand;
  };
  // Filled by the server on demand; set once at startup.
  std::vector<ClientView> (*listClients)(const ServerState&) = nullptr;
  void* serverImpl = nullptr;
  // CLIENT KILL ID <n>: asks the server to close a connection; false if no such client.
  bool (*killClient)(const ServerState&, uint64_t id) = nullptr;
  // EXEC: runs fn while no other connection runs a command on any event loop (the caller's own loop
  // included), so the queued commands execute as one isolated unit. Null (no server: unit tests): fn runs
  // directly.
  void (*runExclusive)(const ServerState&, const Session& caller, const std::function<void()>& fn) = nullptr;
};

// Per-connection state.
struct Session {
  uint64_t id = 0;
  int proto = 2;                    // HELLO 2|3
  bool authenticated = false;       // true at start when no users are configured
  std::string user = "default";
  bool readOnly = false;
  std::string name;                 // CLIENT SETNAME
  std::string libName, libVersion;  // CLIENT SETINFO
  std::string addr, laddr;
  int64_t createdUnixMs = 0;
  int64_t lastCommandUnixMs = 0;
  std::string_view lastCommand;     // the last command's full name ("get", "client|info"): points into the
                                    // static command table, so recording it costs no allocation
  bool closeAfterReply = false;     // QUIT, CLIENT KILL of itself, protocol error
  bool noReply = false;             // CLIENT REPLY OFF (not supported: stays false)
  // Per-connection counters that the server folds into ServerState once per batch of pipelined commands,
  // so the per-command path touches no shared cache line: dispatch() counts `commands`; read handlers
  // count keyspace `hits` / `misses`. (ServerState::totalCommands etc. are updated only by the server.)
  uint64_t commands = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  // MULTI / EXEC (cmd_multi.cc): the commands queued since MULTI, as owned copies of their arguments, and
  // whether one was refused while queueing (EXEC then answers EXECABORT and runs nothing).
  bool inMulti = false;
  bool multiFailed = false;
  std::vector<std::vector<std::string>> queued;
  size_t queuedBytes = 0;
  unsigned loop = 0;                // the event loop serving this connection (server.cc)
};

struct Context {
  ServerState& server;
  kv::Engine& engine;
  Session& session;
  ReplyWriter& out;
  kv::WriteSet& writes;
};

enum CommandFlags : uint32_t {
  kWrite = 1u << 0,      // changes the key space (refused for read-only users)
  kReadOnly = 1u << 1,
  kFast = 1u << 2,
  kAdmin = 1u << 3,      // FLUSH*, CONFIG SET, CLIENT KILL ...: refused for read-only users
  kNoAuth = 1u << 4,     // allowed before AUTH (AUTH, HELLO, QUIT, PING? no: Redis refuses PING)
  kPubSub = 1u << 5,
  kLoading = 1u << 6,
  kStale = 1u << 7,
  kDenyOom = 1u << 8,
};

using Handler = void (*)(Context& ctx, std::span<const std::string_view> args);

struct CommandSpec {
  std::string_view name;     // lower case
  int arity;                 // Redis convention: N exact, -N at least N (the name counts)
  uint32_t flags;
  int firstKey, lastKey, step;  // key positions (COMMAND INFO); 0,0,0 for none; lastKey -1 = to the end
  std::string_view group;    // "string", "generic", "connection", "server", "cluster"
  std::string_view since;
  std::string_view summary;
  Handler handler;
  std::span<const CommandSpec> subcommands;  // CLIENT, COMMAND, CONFIG, ... (name "client|setname")
};

// Case-insensitive lookup; nullptr when unknown.
const CommandSpec* findCommand(std::string_view name);
std::span<const CommandSpec> allCommands();

// Checks arity/auth/read-only, runs the handler, and writes Redis's error replies for the failures:
//   -ERR unknown command 'x', with args beginning with: 'a' 'b'
//   -ERR wrong number of arguments for 'get' command
//   -NOAUTH Authentication required.
//   -NOPERM User u has no permissions to run the 'set' command
void dispatch(Context& ctx, std::span<const std::string_view> args);

// MULTI state for dispatch (cmd_multi.cc). While a connection is inside MULTI, dispatch calls
// queueInMulti() for every command that passed the existence/arity/auth/permission checks: it queues it and
// answers +QUEUED (true), or returns false for the commands that run at once (EXEC, DISCARD, MULTI, WATCH,
// UNWATCH, QUIT, RESET). A command refused by those checks inside MULTI marks the transaction failed
// (markMultiFailed), as Redis's flagTransaction does.
bool queueInMulti(Context& ctx, const CommandSpec& spec, std::span<const std::string_view> args);
void markMultiFailed(Context& ctx);

// kv::Engine::update's key limit: multi-key commands go in chunks of this many keys.
inline constexpr size_t kMaxTxnKeys = 1024;
// update() of one key, its writes recorded in ctx.writes.
Status updateKey(Context& ctx, std::string_view key, const std::function<void(kv::Txn&)>& fn);
// The reply of a command that answers an integer after an update: the error, or `value`.
void replyInteger(Context& ctx, const Status& s, int64_t value);

// Shared reply helpers for handlers.
inline constexpr std::string_view kSyntaxErr = "ERR syntax error";
inline constexpr std::string_view kNotIntegerErr = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloatErr = "ERR value is not a valid float";
inline constexpr std::string_view kWrongTypeErr =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
void wrongArity(Context& ctx, std::string_view command);
// Maps an engine Status to an error reply (the one table for RESP, like s3/errors.cc for S3).
void engineError(Context& ctx, const Status& s);
// Strict integer parsing as Redis does (no spaces, no leading '+', fits int64).
bool parseInt(std::string_view s, int64_t& out);
bool parseDouble(std::string_view s, double& out);  // as Redis's strtold-based check: no spaces, no nan
bool parseLongDouble(std::string_view s, long double& out);  // the same, in long double (INCRBYFLOAT)
bool equalsIgnoreCase(std::string_view a, std::string_view b);
int64_t nowUnixMs();

// Handlers by group (declared here; the table in commands.cc refers to them).
#define EMBER_RESP_HANDLER(fn) void fn(Context& ctx, std::span<const std::string_view> args)
// strings
EMBER_RESP_HANDLER(cmdGet); EMBER_RESP_HANDLER(cmdSet); EMBER_RESP_HANDLER(cmdSetNx);
EMBER_RESP_HANDLER(cmdSetEx); EMBER_RESP_HANDLER(cmdPSetEx); EMBER_RESP_HANDLER(cmdGetDel);
EMBER_RESP_HANDLER(cmdGetEx); EMBER_RESP_HANDLER(cmdGetSet); EMBER_RESP_HANDLER(cmdMGet);
EMBER_RESP_HANDLER(cmdMSet); EMBER_RESP_HANDLER(cmdMSetNx); EMBER_RESP_HANDLER(cmdStrlen);
EMBER_RESP_HANDLER(cmdGetRange); EMBER_RESP_HANDLER(cmdSetRange); EMBER_RESP_HANDLER(cmdAppend);
EMBER_RESP_HANDLER(cmdIncr); EMBER_RESP_HANDLER(cmdDecr); EMBER_RESP_HANDLER(cmdIncrBy);
EMBER_RESP_HANDLER(cmdDecrBy); EMBER_RESP_HANDLER(cmdIncrByFloat);
// keyspace
EMBER_RESP_HANDLER(cmdDel); EMBER_RESP_HANDLER(cmdExists); EMBER_RESP_HANDLER(cmdTouch);
EMBER_RESP_HANDLER(cmdType); EMBER_RESP_HANDLER(cmdExpire); EMBER_RESP_HANDLER(cmdPExpire);
EMBER_RESP_HANDLER(cmdExpireAt); EMBER_RESP_HANDLER(cmdPExpireAt); EMBER_RESP_HANDLER(cmdTtl);
EMBER_RESP_HANDLER(cmdPTtl); EMBER_RESP_HANDLER(cmdExpireTime); EMBER_RESP_HANDLER(cmdPExpireTime);
EMBER_RESP_HANDLER(cmdPersist); EMBER_RESP_HANDLER(cmdScan); EMBER_RESP_HANDLER(cmdKeys);
EMBER_RESP_HANDLER(cmdRandomKey); EMBER_RESP_HANDLER(cmdRename); EMBER_RESP_HANDLER(cmdRenameNx);
EMBER_RESP_HANDLER(cmdDbSize); EMBER_RESP_HANDLER(cmdFlushDb);
// connection / server
EMBER_RESP_HANDLER(cmdPing); EMBER_RESP_HANDLER(cmdEcho); EMBER_RESP_HANDLER(cmdSelect);
EMBER_RESP_HANDLER(cmdQuit); EMBER_RESP_HANDLER(cmdHello); EMBER_RESP_HANDLER(cmdAuth);
EMBER_RESP_HANDLER(cmdClient); EMBER_RESP_HANDLER(cmdCommand); EMBER_RESP_HANDLER(cmdInfo);
EMBER_RESP_HANDLER(cmdConfig); EMBER_RESP_HANDLER(cmdTime); EMBER_RESP_HANDLER(cmdCluster);
EMBER_RESP_HANDLER(cmdSave); EMBER_RESP_HANDLER(cmdLastSave); EMBER_RESP_HANDLER(cmdReset);
EMBER_RESP_HANDLER(cmdMemory);
// transactions
EMBER_RESP_HANDLER(cmdMulti); EMBER_RESP_HANDLER(cmdExec); EMBER_RESP_HANDLER(cmdDiscard);
EMBER_RESP_HANDLER(cmdWatch); EMBER_RESP_HANDLER(cmdUnwatch);
#undef EMBER_RESP_HANDLER

}  // namespace ember::resp
