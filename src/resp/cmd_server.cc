// Connection and server handlers: PING, ECHO, SELECT, QUIT, HELLO, AUTH, RESET, CLIENT, TIME, SAVE/BGSAVE,
// LASTSAVE, DBSIZE, FLUSHDB/FLUSHALL, CLUSTER, MEMORY. The introspection commands are beside it: COMMAND in
// cmd_command.cc, INFO and CONFIG in cmd_info.cc. Replies and error texts follow Redis 7 so that clients and
// tools behave as they do there.

#include <time.h>

#include <algorithm>
#include <string>
#include <vector>

#include "resp/command.h"

namespace ember::resp {
namespace {

bool isOnOff(std::string_view s) { return equalsIgnoreCase(s, "on") || equalsIgnoreCase(s, "off"); }

// Redis allows only printable ASCII without spaces in client names and library info.
bool isPrintableWord(std::string_view s) {
  for (char c : s) {
    if (c < '!' || c > '~') {
      return false;
    }
  }
  return true;
}

void replyHelp(Context& ctx, std::initializer_list<std::string_view> lines) {
  ctx.out.array(lines.size());
  for (std::string_view line : lines) {
    ctx.out.simple(line);
  }
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - ('a' - 'A'));
    }
  }
  return out;
}

// Compares without an early exit on the first differing byte (passwords); only the length leaks.
bool sameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// Checks a user name and password against [[kv.users]]; on success the session becomes that user.
// With no users configured every connection is the password-less "default" user, as in Redis's default setup.
bool authenticate(Context& ctx, std::string_view user, std::string_view password) {
  const std::vector<User>& users = ctx.server.options->users;
  if (users.empty()) {
    if (user != "default") {
      return false;
    }
    ctx.session.authenticated = true;
    ctx.session.user = "default";
    ctx.session.readOnly = false;
    return true;
  }
  for (const User& u : users) {
    if (u.name == user && sameSecret(password, u.password)) {
      ctx.session.authenticated = true;
      ctx.session.user = u.name;
      ctx.session.readOnly = u.readOnly;
      return true;
    }
  }
  return false;
}

constexpr std::string_view kWrongPass = "WRONGPASS invalid username-password pair or user is disabled.";

// ---- CLIENT --------------------------------------------------------------------------------------------

ServerState::ClientView viewOf(const Session& s) {
  return ServerState::ClientView{s.id,
                                 s.addr,
                                 s.laddr,
                                 s.name,
                                 s.user,
                                 s.createdUnixMs,
                                 s.lastCommandUnixMs,
                                 s.proto,
                                 std::string(s.lastCommand)};
}

// Every live connection, this one described from its live session (the registry may lag behind it).
std::vector<ServerState::ClientView> allClients(Context& ctx) {
  std::vector<ServerState::ClientView> clients;
  if (ctx.server.listClients != nullptr) {
    clients = ctx.server.listClients(ctx.server);
  }
  bool seenSelf = false;
  for (ServerState::ClientView& c : clients) {
    if (c.id == ctx.session.id) {
      c = viewOf(ctx.session);
      seenSelf = true;
    }
  }
  if (!seenSelf) {
    clients.push_back(viewOf(ctx.session));
  }
  return clients;
}

// One CLIENT LIST / CLIENT INFO line in Redis 7.2's field order; buffer and memory fields Ember does not
// track are reported as 0.
void appendClientLine(std::string& out, const ServerState::ClientView& c, const Session& self, int64_t now) {
  std::string_view libName = c.id == self.id ? std::string_view(self.libName) : std::string_view();
  std::string_view libVer = c.id == self.id ? std::string_view(self.libVersion) : std::string_view();
  int64_t last = c.lastCommandUnixMs != 0 ? c.lastCommandUnixMs : c.createdUnixMs;
  out += "id=" + std::to_string(c.id);
  out += " addr=" + c.addr;
  out += " laddr=" + c.laddr;
  out += " fd=-1 name=" + c.name;
  out += " age=" + std::to_string(c.createdUnixMs > 0 ? (now - c.createdUnixMs) / 1000 : 0);
  out += " idle=" + std::to_string(last > 0 ? (now - last) / 1000 : 0);
  out +=
      " flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0"
      " obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=";
  out += c.lastCommand.empty() ? std::string("NULL") : c.lastCommand;
  out += " user=" + c.user;
  out += " redir=-1 resp=" + std::to_string(c.proto);
  out += " lib-name=";
  out += libName;
  out += " lib-ver=";
  out += libVer;
  out += '\n';
}

// Marks a client for closing: this connection after its reply, another through the server.
bool killOne(Context& ctx, uint64_t id) {
  if (id == ctx.session.id) {
    ctx.session.closeAfterReply = true;
    return true;
  }
  return ctx.server.killClient != nullptr && ctx.server.killClient(ctx.server, id);
}

void clientKill(Context& ctx, std::span<const std::string_view> args) {
  if (args.size() == 3) {  // old form: CLIENT KILL addr:port
    for (const ServerState::ClientView& c : allClients(ctx)) {
      if (c.addr == args[2] && killOne(ctx, c.id)) {
        ctx.out.ok();
        return;
      }
    }
    ctx.out.error("ERR No such client");
    return;
  }
  if ((args.size() - 2) % 2 != 0) {
    ctx.out.error(kSyntaxErr);
    return;
  }
  int64_t id = 0;
  std::string_view addr, laddr, user;
  bool haveAddr = false, haveLaddr = false, haveUser = false, skipMe = true, typeMatches = true;
  int64_t maxAge = 0;
  for (size_t i = 2; i < args.size(); i += 2) {
    std::string_view opt = args[i], val = args[i + 1];
    if (equalsIgnoreCase(opt, "id")) {
      if (!parseInt(val, id) || id <= 0) {
        ctx.out.error("ERR client-id should be greater than 0");
        return;
      }
    } else if (equalsIgnoreCase(opt, "addr")) {
      addr = val;
      haveAddr = true;
    } else if (equalsIgnoreCase(opt, "laddr")) {
      laddr = val;
      haveLaddr = true;
    } else if (equalsIgnoreCase(opt, "user")) {
      user = val;
      haveUser = true;
    } else if (equalsIgnoreCase(opt, "type")) {
      if (equalsIgnoreCase(val, "normal")) {
        typeMatches = true;
      } else if (equalsIgnoreCase(val, "master") || equalsIgnoreCase(val, "replica") ||
                 equalsIgnoreCase(val, "slave") || equalsIgnoreCase(val, "pubsub")) {
        typeMatches = false;  // Ember has only normal clients
      } else {
        ctx.out.error("ERR Unknown client type '" + std::string(val.substr(0, 128)) + "'");
        return;
      }
    } else if (equalsIgnoreCase(opt, "skipme")) {
      if (equalsIgnoreCase(val, "yes")) {
        skipMe = true;
      } else if (equalsIgnoreCase(val, "no")) {
        skipMe = false;
      } else {
        ctx.out.error(kSyntaxErr);
        return;
      }
    } else if (equalsIgnoreCase(opt, "maxage")) {
      if (!parseInt(val, maxAge) || maxAge < 0) {
        ctx.out.error(kNotIntegerErr);
        return;
      }
    } else {
      ctx.out.error(kSyntaxErr);
      return;
    }
  }
  int64_t killed = 0;
  int64_t now = nowUnixMs();
  if (typeMatches) {
    for (const ServerState::ClientView& c : allClients(ctx)) {
      bool match = (id == 0 || c.id == static_cast<uint64_t>(id)) && (!haveAddr || c.addr == addr) &&
                   (!haveLaddr || c.laddr == laddr) && (!haveUser || c.user == user) &&
                   (maxAge == 0 || (now - c.createdUnixMs) / 1000 >= maxAge) &&
                   !(skipMe && c.id == ctx.session.id);
      if (match && killOne(ctx, c.id)) {
        ++killed;
      }
    }
  }
  ctx.out.integer(killed);
}

}  // namespace

void cmdPing(Context& ctx, std::span<const std::string_view> args) {
  if (args.size() > 2) {
    wrongArity(ctx, "ping");
  } else if (args.size() == 2) {
    ctx.out.bulk(args[1]);
  } else {
    ctx.out.simple("PONG");
  }
}

void cmdEcho(Context& ctx, std::span<const std::string_view> args) { ctx.out.bulk(args[1]); }

void cmdSelect(Context& ctx, std::span<const std::string_view> args) {
  int64_t db = 0;
  if (!parseInt(args[1], db)) {
    ctx.out.error(kNotIntegerErr);
  } else if (db != 0) {
    ctx.out.error("ERR DB index is out of range");  // Ember has one database, as Redis Cluster
  } else {
    ctx.out.ok();
  }
}

void cmdQuit(Context& ctx, std::span<const std::string_view>) {
  ctx.out.ok();
  ctx.session.closeAfterReply = true;
}

// HELLO [protover [AUTH user pass] [SETNAME name]]
void cmdHello(Context& ctx, std::span<const std::string_view> args) {
  int proto = ctx.session.proto;
  size_t i = 1;
  if (args.size() >= 2) {
    int64_t v = 0;
    if (!parseInt(args[1], v)) {
      ctx.out.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (v < 2 || v > 3) {
      ctx.out.error("NOPROTO unsupported protocol version");
      return;
    }
    proto = static_cast<int>(v);
    i = 2;
  }
  std::string_view user, password, name;
  bool haveAuth = false, haveName = false;
  for (; i < args.size(); ++i) {
    size_t more = args.size() - 1 - i;
    if (equalsIgnoreCase(args[i], "auth") && more >= 2) {
      user = args[i + 1];
      password = args[i + 2];
      haveAuth = true;
      i += 2;
    } else if (equalsIgnoreCase(args[i], "setname") && more >= 1) {
      name = args[i + 1];
      if (!isPrintableWord(name)) {
        ctx.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
      haveName = true;
      ++i;
    } else {
      ctx.out.error("ERR Syntax error in HELLO option '" + std::string(args[i].substr(0, 128)) + "'");
      return;
    }
  }
  if (haveAuth && !authenticate(ctx, user, password)) {
    ctx.out.error(kWrongPass);
    return;
  }
  if (!ctx.session.authenticated) {
    ctx.out.error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at "
        "the "
        "same time");
    return;
  }
  if (haveName) {
    ctx.session.name = std::string(name);
  }
  ctx.session.proto = proto;
  ctx.out.setProto(proto);  // the reply is already in the new protocol, as Redis does
  ctx.out.map(7);
  ctx.out.bulk("server");
  ctx.out.bulk("redis");  // what clients expect to see; INFO's ember_version names the real server
  ctx.out.bulk("version");
  ctx.out.bulk(ctx.server.options->version);
  ctx.out.bulk("proto");
  ctx.out.integer(proto);
  ctx.out.bulk("id");
  ctx.out.integer(static_cast<int64_t>(ctx.session.id));
  ctx.out.bulk("mode");
  ctx.out.bulk("standalone");
  ctx.out.bulk("role");
  ctx.out.bulk("master");
  ctx.out.bulk("modules");
  ctx.out.array(0);
}

// AUTH [user] password
void cmdAuth(Context& ctx, std::span<const std::string_view> args) {
  if (args.size() > 3) {
    ctx.out.error(kSyntaxErr);
    return;
  }
  if (args.size() == 2 && ctx.server.options->users.empty()) {
    ctx.out.error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
        "configuration is correct?");
    return;
  }
  std::string_view user = args.size() == 3 ? args[1] : std::string_view("default");
  if (authenticate(ctx, user, args.back())) {
    ctx.out.ok();
  } else {
    ctx.out.error(kWrongPass);
  }
}

void cmdReset(Context& ctx, std::span<const std::string_view>) {
  Session& s = ctx.session;
  s.proto = 2;
  ctx.out.setProto(2);
  s.name.clear();
  s.libName.clear();
  s.libVersion.clear();
  s.user = "default";
  s.readOnly = false;
  s.authenticated = ctx.server.options->users.empty();
  s.noReply = false;
  s.inMulti = false;  // RESET also discards a transaction being queued
  s.multiFailed = false;
  s.queued.clear();
  s.queuedBytes = 0;
  ctx.out.simple("RESET");
}

void cmdClient(Context& ctx, std::span<const std::string_view> args) {
  std::string_view sub = args[1];
  Session& s = ctx.session;
  if (equalsIgnoreCase(sub, "id")) {
    ctx.out.integer(static_cast<int64_t>(s.id));
  } else if (equalsIgnoreCase(sub, "getname")) {
    if (s.name.empty()) {
      ctx.out.null();
    } else {
      ctx.out.bulk(s.name);
    }
  } else if (equalsIgnoreCase(sub, "setname")) {
    if (!isPrintableWord(args[2])) {
      ctx.out.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    s.name = std::string(args[2]);
    ctx.out.ok();
  } else if (equalsIgnoreCase(sub, "setinfo")) {
    bool isName = equalsIgnoreCase(args[2], "lib-name");
    if (!isName && !equalsIgnoreCase(args[2], "lib-ver")) {
      ctx.out.error("ERR Unrecognized option '" + std::string(args[2].substr(0, 128)) + "'");
      return;
    }
    if (!isPrintableWord(args[3])) {
      ctx.out.error(std::string(isName ? "ERR lib-name" : "ERR lib-ver") +
                    " cannot contain spaces, newlines or special characters.");
      return;
    }
    (isName ? s.libName : s.libVersion) = std::string(args[3]);
    ctx.out.ok();
  } else if (equalsIgnoreCase(sub, "info")) {
    std::string line;
    appendClientLine(line, viewOf(s), s, nowUnixMs());
    ctx.out.verbatim("txt", line);
  } else if (equalsIgnoreCase(sub, "list")) {
    // CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]
    bool typeMatches = true;
    std::vector<uint64_t> ids;
    for (size_t i = 2; i < args.size(); ++i) {
      if (equalsIgnoreCase(args[i], "type") && i + 1 < args.size()) {
        std::string_view t = args[++i];
        if (equalsIgnoreCase(t, "normal")) {
          typeMatches = true;
        } else if (equalsIgnoreCase(t, "master") || equalsIgnoreCase(t, "replica") ||
                   equalsIgnoreCase(t, "slave") || equalsIgnoreCase(t, "pubsub")) {
          typeMatches = false;
        } else {
          ctx.out.error("ERR Unknown client type '" + std::string(t.substr(0, 128)) + "'");
          return;
        }
      } else if (equalsIgnoreCase(args[i], "id") && i + 1 < args.size()) {
        for (++i; i < args.size(); ++i) {
          int64_t id = 0;
          if (!parseInt(args[i], id) || id <= 0) {
            ctx.out.error("ERR Invalid client ID");
            return;
          }
          ids.push_back(static_cast<uint64_t>(id));
        }
      } else {
        ctx.out.error(kSyntaxErr);
        return;
      }
    }
    std::string text;
    if (typeMatches) {
      int64_t now = nowUnixMs();
      for (const ServerState::ClientView& c : allClients(ctx)) {
        if (ids.empty() || std::find(ids.begin(), ids.end(), c.id) != ids.end()) {
          appendClientLine(text, c, s, now);
        }
      }
    }
    ctx.out.verbatim("txt", text);
  } else if (equalsIgnoreCase(sub, "kill")) {
    clientKill(ctx, args);
  } else if (equalsIgnoreCase(sub, "no-evict") || equalsIgnoreCase(sub, "no-touch")) {
    if (isOnOff(args[2])) {
      ctx.out.ok();  // Ember never evicts clients, and keys have no LRU clock to spare
    } else {
      ctx.out.error(kSyntaxErr);
    }
  } else if (equalsIgnoreCase(sub, "reply")) {
    if (equalsIgnoreCase(args[2], "on")) {
      ctx.out.ok();
    } else if (equalsIgnoreCase(args[2], "off") || equalsIgnoreCase(args[2], "skip")) {
      ctx.out.error("ERR CLIENT REPLY OFF and SKIP are not supported by Ember");
    } else {
      ctx.out.error(kSyntaxErr);
    }
  } else if (equalsIgnoreCase(sub, "getredir")) {
    ctx.out.integer(-1);  // no tracking
  } else {
    replyHelp(ctx, {"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GETNAME",
                    "    Return the name of the current connection.",
                    "GETREDIR",
                    "    Return -1: Ember has no client-side caching.",
                    "ID",
                    "    Return the ID of the current connection.",
                    "INFO",
                    "    Return information about the current client connection.",
                    "KILL <ip:port>",
                    "    Kill connection made from <ip:port>.",
                    "KILL <option> <value> [<option> <value> [...]]",
                    "    Kill connections. Options are: ID <id>, ADDR <ip:port>, LADDR <ip:port>,",
                    "    TYPE NORMAL, USER <username>, MAXAGE <seconds>, SKIPME (YES|NO).",
                    "LIST [TYPE NORMAL] [ID <id> [<id> ...]]",
                    "    Return information about client connections.",
                    "NO-EVICT (ON|OFF)",
                    "    Accepted; Ember never evicts clients.",
                    "NO-TOUCH (ON|OFF)",
                    "    Accepted; has no effect.",
                    "REPLY ON",
                    "    Replies are always on (OFF and SKIP are not supported).",
                    "SETINFO <LIB-NAME|LIB-VER> <value>",
                    "    Set client library name or version.",
                    "SETNAME <name>",
                    "    Assign the name <name> to the current connection.",
                    "HELP",
                    "    Print this help."});
  }
}

void cmdTime(Context& ctx, std::span<const std::string_view>) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  ctx.out.array(2);
  ctx.out.bulk(std::to_string(ts.tv_sec));
  ctx.out.bulk(std::to_string(ts.tv_nsec / 1000));
}

// SAVE and BGSAVE both write out and fdatasync every shard now: Ember's log is its snapshot. This blocks the
// calling network thread for the fsyncs, as Redis's SAVE blocks its server.
void cmdSave(Context& ctx, std::span<const std::string_view> args) {
  bool background = equalsIgnoreCase(args[0], "bgsave");
  if (args.size() > 2 || (args.size() == 2 && (!background || !equalsIgnoreCase(args[1], "schedule")))) {
    ctx.out.error(kSyntaxErr);
    return;
  }
  Status s = ctx.engine.sync();
  if (!s) {
    engineError(ctx, s);
  } else if (background) {
    ctx.out.simple("Background saving started");
  } else {
    ctx.out.ok();
  }
}

// The last time every shard was fsynced (SAVE, shutdown, or a batch/sync group commit); the start time when
// nothing was ever synced (durability "none").
void cmdLastSave(Context& ctx, std::span<const std::string_view>) {
  uint64_t lastFsyncMs = ctx.engine.stats().lastFsyncUnixMs;
  int64_t ms = lastFsyncMs != 0 ? static_cast<int64_t>(lastFsyncMs) : ctx.server.startedUnixMs;
  ctx.out.integer(ms / 1000);
}

void cmdDbSize(Context& ctx, std::span<const std::string_view>) {
  ctx.out.integer(static_cast<int64_t>(ctx.engine.size()));
}

// FLUSHDB / FLUSHALL [ASYNC|SYNC]: one database, so both clear everything.
void cmdFlushDb(Context& ctx, std::span<const std::string_view> args) {
  if (args.size() > 2 ||
      (args.size() == 2 && !equalsIgnoreCase(args[1], "async") && !equalsIgnoreCase(args[1], "sync"))) {
    ctx.out.error(kSyntaxErr);
    return;
  }
  if (!ctx.server.options->allowFlush) {
    ctx.out.error("ERR " + upper(args[0]) + " is disabled by configuration ([kv] allow_flush)");
    return;
  }
  Status s = ctx.engine.clear(&ctx.writes);
  if (!s) {
    engineError(ctx, s);
    return;
  }
  ctx.out.ok();
}

// CLUSTER: Ember runs without cluster support, so every subcommand answers as a non-cluster Redis does,
// except KEYSLOT, which computes the slot a cluster would use (the seam for a later cluster mode).
void cmdCluster(Context& ctx, std::span<const std::string_view> args) {
  if (equalsIgnoreCase(args[1], "keyslot")) {
    ctx.out.integer(kv::keySlot(args[2]));
  } else if (equalsIgnoreCase(args[1], "help")) {
    replyHelp(ctx, {"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "KEYSLOT <key>",
                    "    Return the hash slot for <key>.", "HELP", "    Print this help.",
                    "Every other subcommand is refused: this instance has cluster support disabled."});
  } else {
    ctx.out.error("ERR This instance has cluster support disabled");
  }
}

// MEMORY USAGE key [SAMPLES n]: the bytes the key costs: key and value plus the index entry's overhead (the
// value may live on disk rather than in RAM; this is the logical cost, as Redis reports for its RAM).
void cmdMemory(Context& ctx, std::span<const std::string_view> args) {
  if (equalsIgnoreCase(args[1], "help")) {
    replyHelp(
        ctx,
        {"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "USAGE <key> [SAMPLES <count>]",
         "    Return the approximate bytes a key and its value take.", "HELP", "    Print this help."});
    return;
  }
  // memory|usage
  if (args.size() != 3) {
    int64_t samples = 0;
    if (args.size() != 5 || !equalsIgnoreCase(args[3], "samples")) {
      ctx.out.error(kSyntaxErr);
      return;
    }
    if (!parseInt(args[4], samples) || samples < 0) {
      ctx.out.error(kNotIntegerErr);
      return;
    }
  }
  constexpr int64_t kEntryOverhead = 64;  // index entry, hash chain link and allocator rounding, roughly
  int64_t bytes = 0;
  Status s = ctx.engine.read(args[2], [&](std::string_view value, int64_t) {
    bytes = static_cast<int64_t>(args[2].size() + value.size()) + kEntryOverhead;
  });
  if (s.code() == Code::kNotFound) {
    ctx.out.null();
  } else if (!s) {
    engineError(ctx, s);
  } else {
    ctx.out.integer(bytes);
  }
}

}  // namespace ember::resp
