// The command layer: table lookup, strict number parsing, dispatch's Redis-compatible errors, and the
// connection/server handlers (cmd_server.cc, cmd_info.cc) against a real kv::Engine in a temporary directory.
// Expected error texts were taken from redis-server 7.0.15 where Redis has them.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "resp/command.h"

namespace ember::resp {
namespace {

// ---- findCommand and the table ---------------------------------------------------------------------------

TEST(FindCommand, IsCaseInsensitive) {
  for (std::string_view name : {"get", "GET", "gEt", "Get"}) {
    const CommandSpec* spec = findCommand(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->name, "get");
    EXPECT_EQ(spec->handler, &cmdGet);
  }
  ASSERT_NE(findCommand("INCRBYFLOAT"), nullptr);
  EXPECT_EQ(findCommand("INCRBYFLOAT")->handler, &cmdIncrByFloat);
}

TEST(FindCommand, UnknownNamesAreNull) {
  for (std::string_view name : std::vector<std::string_view>{"", "ge", "gett", "xyz", "client|id", "get ",
                                                             std::string_view("g\0t", 3),
                                                             "averyveryverylongcommandname", "getrangex"}) {
    EXPECT_EQ(findCommand(name), nullptr) << name;
  }
}

TEST(FindCommand, EveryTableEntryIsFoundUnderItsNameInAnyCase) {
  std::set<std::string_view> seen;
  for (const CommandSpec& spec : allCommands()) {
    EXPECT_TRUE(seen.insert(spec.name).second) << "duplicate " << spec.name;
    EXPECT_EQ(findCommand(spec.name), &spec);
    std::string upper(spec.name);
    for (char& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(findCommand(upper), &spec);
    EXPECT_NE(spec.handler, nullptr) << spec.name;
    EXPECT_NE(spec.arity, 0) << spec.name;
    EXPECT_FALSE(spec.summary.empty()) << spec.name;
    for (char c : spec.name) {
      EXPECT_FALSE(c >= 'A' && c <= 'Z') << spec.name << " must be lower case";
    }
    for (const CommandSpec& sub : spec.subcommands) {
      EXPECT_EQ(sub.name.substr(0, spec.name.size() + 1), std::string(spec.name) + "|") << sub.name;
      EXPECT_NE(sub.handler, nullptr) << sub.name;
    }
  }
  // The issue's commands are all there.
  for (std::string_view name :
       {"get",    "set",         "setnx",      "setex",   "psetex",  "getdel",   "getex",
        "mget",   "mset",        "msetnx",     "del",     "unlink",  "exists",   "touch",
        "strlen", "getrange",    "setrange",   "append",  "incr",    "decr",     "incrby",
        "decrby", "incrbyfloat", "type",       "expire",  "pexpire", "expireat", "pexpireat",
        "ttl",    "pttl",        "expiretime", "persist", "scan",    "keys",     "randomkey",
        "rename", "ping",        "echo",       "select",  "quit",    "hello",    "auth",
        "client", "command",     "info",       "config",  "dbsize",  "flushdb",  "flushall"}) {
    EXPECT_NE(findCommand(name), nullptr) << name;
  }
}

TEST(FindCommand, KeyPositionsFollowRedis) {
  auto keys = [](std::string_view n) {
    const CommandSpec* s = findCommand(n);
    return std::vector<int>{s->arity, s->firstKey, s->lastKey, s->step};
  };
  EXPECT_EQ(keys("get"), (std::vector<int>{2, 1, 1, 1}));
  EXPECT_EQ(keys("set"), (std::vector<int>{-3, 1, 1, 1}));
  EXPECT_EQ(keys("mget"), (std::vector<int>{-2, 1, -1, 1}));
  EXPECT_EQ(keys("mset"), (std::vector<int>{-3, 1, -1, 2}));
  EXPECT_EQ(keys("del"), (std::vector<int>{-2, 1, -1, 1}));
  EXPECT_EQ(keys("rename"), (std::vector<int>{3, 1, 2, 1}));
  EXPECT_EQ(keys("scan"), (std::vector<int>{-2, 0, 0, 0}));
  EXPECT_TRUE(findCommand("get")->flags & kReadOnly);
  EXPECT_TRUE(findCommand("set")->flags & kWrite);
  EXPECT_TRUE(findCommand("set")->flags & kDenyOom);
  EXPECT_TRUE(findCommand("auth")->flags & kNoAuth);
  EXPECT_FALSE(findCommand("ping")->flags & kNoAuth);
}

// ---- parseInt / parseDouble ------------------------------------------------------------------------------

TEST(ParseInt, AcceptsWhatRedisAccepts) {
  struct Case {
    std::string_view in;
    int64_t want;
  };
  for (Case c : {Case{"0", 0}, Case{"1", 1}, Case{"-1", -1}, Case{"42", 42}, Case{"1000000", 1000000},
                 Case{"9223372036854775807", std::numeric_limits<int64_t>::max()},
                 Case{"-9223372036854775808", std::numeric_limits<int64_t>::min()}}) {
    int64_t v = 7;
    EXPECT_TRUE(parseInt(c.in, v)) << c.in;
    EXPECT_EQ(v, c.want) << c.in;
  }
}

TEST(ParseInt, RejectsWhatRedisRejects) {
  for (std::string_view in : std::vector<std::string_view>{"",
                                                           "-",
                                                           "+1",
                                                           " 1",
                                                           "1 ",
                                                           "01",
                                                           "-0",
                                                           "-01",
                                                           "00",
                                                           "1a",
                                                           "a1",
                                                           "1.0",
                                                           "1e3",
                                                           "9223372036854775808",
                                                           "-9223372036854775809",
                                                           "18446744073709551616",
                                                           "99999999999999999999",
                                                           "123456789012345678901",
                                                           "0x10",
                                                           "\t1",
                                                           std::string_view("1\0", 2)}) {
    int64_t v = 7;
    EXPECT_FALSE(parseInt(in, v)) << in;
    EXPECT_EQ(v, 7) << "untouched on failure: " << in;
  }
}

TEST(ParseDouble, AcceptsWhatRedisAccepts) {
  struct Case {
    std::string_view in;
    double want;
  };
  for (Case c : {Case{"0", 0}, Case{"1.5", 1.5}, Case{"-1.5", -1.5}, Case{"+2", 2}, Case{".5", 0.5},
                 Case{"5.", 5}, Case{"1e3", 1000}, Case{"-2.5E-2", -0.025}, Case{"0x10", 16},
                 Case{"10.0000000000000000000000000000000000000000000000000000000000000000000001", 10}}) {
    double v = 0;
    EXPECT_TRUE(parseDouble(c.in, v)) << c.in;
    EXPECT_DOUBLE_EQ(v, c.want) << c.in;
  }
  for (std::string_view in : {"inf", "+inf", "Infinity"}) {
    double v = 0;
    EXPECT_TRUE(parseDouble(in, v)) << in;
    EXPECT_TRUE(std::isinf(v) && v > 0) << in;
  }
  double v = 0;
  EXPECT_TRUE(parseDouble("-inf", v));
  EXPECT_TRUE(std::isinf(v) && v < 0);
}

TEST(ParseDouble, RejectsWhatRedisRejects) {
  for (std::string_view in :
       std::vector<std::string_view>{"", " 1", "1 ", "\n1", "abc", "1.5x", "nan", "NaN", "-nan", "1e400",
                                     "-1e400", "1e-400", "--1", "1..2", std::string_view("1\0", 2)}) {
    double v = 7;
    EXPECT_FALSE(parseDouble(in, v)) << in;
    EXPECT_EQ(v, 7) << in;
  }
  double v = 7;
  EXPECT_FALSE(parseDouble(std::string(6000, '1'), v));  // Redis's 5 KiB cap
}

TEST(EqualsIgnoreCase, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(equalsIgnoreCase("SetName", "setname"));
  EXPECT_TRUE(equalsIgnoreCase("", ""));
  EXPECT_FALSE(equalsIgnoreCase("set", "sets"));
  EXPECT_FALSE(equalsIgnoreCase("a", "b"));
  EXPECT_FALSE(equalsIgnoreCase("@", "`"));  // not a letter pair
}

// ---- dispatch and handlers with a real engine -------------------------------------------------------------

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-commands-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    kv::Options o;
    o.dir = dir_;
    o.shards = 4;
    o.durability = kv::Durability::kNone;
    o.cacheBytes = 1 << 20;
    o.maxValueBytes = 1024;
    o.maxKeyBytes = 64;
    auto engine = kv::Engine::open(o);
    ASSERT_TRUE(engine) << engine.error().toString();
    engine_ = std::move(*engine);
    state_.options = &options_;
    state_.port = options_.port;  // what the server stores once its listener is bound
    state_.engine = engine_.get();
    state_.startedUnixMs = nowUnixMs();
    state_.dataDir = dir_;
    state_.durabilityName = "none";
    session_.id = 7;
    session_.authenticated = true;
    session_.addr = "127.0.0.1:5000";
    session_.laddr = "127.0.0.1:6379";
    session_.createdUnixMs = nowUnixMs();
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs one command through dispatch and returns the raw reply bytes.
  std::string run(std::vector<std::string_view> args) {
    std::string out;
    ReplyWriter writer(out, session_.proto);
    kv::WriteSet ws;
    Context ctx{state_, *engine_, session_, writer, ws};
    dispatch(ctx, args);
    return out;
  }

  void put(std::string_view key, std::string_view value) {
    std::string_view keys[] = {key};
    Status s = engine_->update(
        keys, [&](kv::Txn& txn) { txn.put(0, value, kv::kNoExpiry); }, nullptr);
    ASSERT_TRUE(s) << s.toString();
  }

  void withUsers() {
    options_.users = {User{"alice", "secret", false}, User{"ro", "ropw", true}};
    session_.authenticated = false;
  }

  std::string dir_;
  KvServerOptions options_;
  ServerState state_;
  std::unique_ptr<kv::Engine> engine_;
  Session session_;
};

TEST_F(CommandsTest, UnknownCommandAsRedis7) {
  EXPECT_EQ(run({"foo", "a", "b"}), "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
  EXPECT_EQ(run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(run({"foo", "a\r\nb"}), "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n");
  // Arguments stop once 128 bytes are listed; each is cut to what remains of the 128.
  std::string x(100, 'x'), y(40, 'y');
  EXPECT_EQ(run({"foo", x, y, "zz"}), "-ERR unknown command 'foo', with args beginning with: '" + x + "' '" +
                                          std::string(25, 'y') + "' \r\n");
  std::string n(140, 'N');
  EXPECT_EQ(run({n, "a"}),
            "-ERR unknown command '" + std::string(128, 'N') + "', with args beginning with: 'a' \r\n");
  EXPECT_EQ(state_.totalCommands.load(), 0u);  // rejected commands are not counted
}

TEST_F(CommandsTest, WrongArityNamesTheCommandOrSubcommand) {
  EXPECT_EQ(run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run({"get", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run({"client"}), "-ERR wrong number of arguments for 'client' command\r\n");
  EXPECT_EQ(run({"client", "setname"}), "-ERR wrong number of arguments for 'client|setname' command\r\n");
  EXPECT_EQ(run({"CONFIG", "GET"}), "-ERR wrong number of arguments for 'config|get' command\r\n");
  EXPECT_EQ(run({"ping", "a", "b"}), "-ERR wrong number of arguments for 'ping' command\r\n");
}

TEST_F(CommandsTest, UnknownSubcommand) {
  EXPECT_EQ(run({"client", "foo"}), "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n");
  EXPECT_EQ(run({"Config", "bar", "x"}), "-ERR unknown subcommand 'bar'. Try CONFIG HELP.\r\n");
  EXPECT_EQ(run({"memory", "FOO"}), "-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n");
}

TEST_F(CommandsTest, NoAuthBeforeAuthentication) {
  withUsers();
  EXPECT_EQ(run({"get", "k"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(run({"ping"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(run({"client", "id"}), "-NOAUTH Authentication required.\r\n");
  // Existence and arity come first, as in Redis.
  EXPECT_EQ(run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
  EXPECT_EQ(run({"get"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run({"auth", "alice", "wrong"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run({"auth", "nopass"}), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_FALSE(session_.authenticated);
  EXPECT_EQ(run({"auth", "alice", "secret"}), "+OK\r\n");
  EXPECT_TRUE(session_.authenticated);
  EXPECT_EQ(session_.user, "alice");
  EXPECT_EQ(run({"ping"}), "+PONG\r\n");
  EXPECT_EQ(run({"set", "k", "v"}), "+OK\r\n");
}

TEST_F(CommandsTest, ReadOnlyUserGetsNoPermForWrites) {
  withUsers();
  EXPECT_EQ(run({"auth", "ro", "ropw"}), "+OK\r\n");
  EXPECT_TRUE(session_.readOnly);
  EXPECT_EQ(run({"set", "k", "v"}), "-NOPERM User ro has no permissions to run the 'set' command\r\n");
  EXPECT_EQ(run({"flushall"}), "-NOPERM User ro has no permissions to run the 'flushall' command\r\n");
  EXPECT_EQ(run({"config", "set", "a", "b"}),
            "-NOPERM User ro has no permissions to run the 'config|set' command\r\n");
  EXPECT_EQ(run({"get", "k"}), "$-1\r\n");
  EXPECT_EQ(run({"dbsize"}), ":0\r\n");
  EXPECT_EQ(run({"client", "id"}), ":7\r\n");
}

TEST_F(CommandsTest, AuthWithoutConfiguredUsers) {
  EXPECT_EQ(run({"auth", "pw"}),
            "-ERR AUTH <password> called without any password configured for the default user. Are you sure "
            "your configuration is correct?\r\n");
  EXPECT_EQ(run({"auth", "default", "anything"}), "+OK\r\n");
  EXPECT_EQ(run({"auth", "bob", "x"}), "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run({"auth", "a", "b", "c"}), "-ERR syntax error\r\n");
}

TEST_F(CommandsTest, CountsCommandsAndRecordsTheLast) {
  EXPECT_EQ(run({"PING"}), "+PONG\r\n");
  EXPECT_EQ(run({"client", "ID"}), ":7\r\n");
  EXPECT_EQ(session_.commands, 2u);  // the server folds these into state_.totalCommands per batch
  EXPECT_EQ(session_.lastCommand, "client|id");
  EXPECT_GT(session_.lastCommandUnixMs, 0);
}

TEST_F(CommandsTest, PingEchoSelectQuit) {
  EXPECT_EQ(run({"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(run({"echo", "hello"}), "$5\r\nhello\r\n");
  EXPECT_EQ(run({"select", "0"}), "+OK\r\n");
  EXPECT_EQ(run({"select", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(run({"select", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_FALSE(session_.closeAfterReply);
  EXPECT_EQ(run({"quit"}), "+OK\r\n");
  EXPECT_TRUE(session_.closeAfterReply);
}

TEST_F(CommandsTest, HelloSwitchesProtocolAndRepliesWithTheServerMap) {
  options_.version = "7.2.4";
  EXPECT_EQ(run({"hello", "3"}),
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:3\r\n"
            "$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
            "$7\r\nmodules\r\n*0\r\n");
  EXPECT_EQ(session_.proto, 3);
  EXPECT_EQ(run({"client", "getname"}), "_\r\n");
  EXPECT_EQ(run({"hello", "2", "setname", "app"}).substr(0, 4), "*14\r");
  EXPECT_EQ(session_.proto, 2);
  EXPECT_EQ(session_.name, "app");
  EXPECT_EQ(run({"hello", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(run({"hello", "x"}), "-ERR Protocol version is not an integer or out of range\r\n");
  EXPECT_EQ(run({"hello", "3", "foo"}), "-ERR Syntax error in HELLO option 'foo'\r\n");
  EXPECT_EQ(run({"hello", "3", "setname", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(session_.proto, 2);
}

TEST_F(CommandsTest, HelloAuthenticates) {
  withUsers();
  std::string noauth = run({"hello", "3"});
  EXPECT_EQ(noauth.substr(0, 58), "-NOAUTH HELLO must be called with the client already authe");
  EXPECT_EQ(session_.proto, 2);
  EXPECT_EQ(run({"hello", "3", "auth", "alice", "bad"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(run({"hello", "3", "auth", "alice", "secret"}).substr(0, 3), "%7\r");
  EXPECT_TRUE(session_.authenticated);
  EXPECT_EQ(session_.proto, 3);
}

TEST_F(CommandsTest, ClientNameIdInfo) {
  EXPECT_EQ(run({"client", "getname"}), "$-1\r\n");
  EXPECT_EQ(run({"client", "setname", "my conn"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(run({"client", "setname", "worker-1"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "getname"}), "$8\r\nworker-1\r\n");
  EXPECT_EQ(run({"client", "setinfo", "lib-name", "redis-py"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "setinfo", "lib-ver", "5.0.1"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "setinfo", "color", "x"}), "-ERR Unrecognized option 'color'\r\n");
  std::string info = run({"client", "info"});
  EXPECT_EQ(info.substr(0, 1), "$");
  for (std::string_view part :
       {"id=7 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 ", " name=worker-1 ", " cmd=client|info ",
        " user=default ", " resp=2 ", " lib-name=redis-py ", " lib-ver=5.0.1\n"}) {
    EXPECT_NE(info.find(part), std::string::npos) << part << " in " << info;
  }
  session_.proto = 3;
  EXPECT_EQ(run({"client", "info"}).substr(0, 1), "=");  // verbatim "txt:" in RESP3
  EXPECT_EQ(run({"client", "no-evict", "on"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "no-evict", "maybe"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run({"client", "reply", "on"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "reply", "off"}).substr(0, 5), "-ERR ");
  EXPECT_EQ(run({"client", "help"}).substr(0, 1), "*");
}

std::vector<ServerState::ClientView> twoClients(const ServerState&) {
  return {ServerState::ClientView{7, "127.0.0.1:5000", "127.0.0.1:6379", "", "default", 1, 1, 2, ""},
          ServerState::ClientView{9, "127.0.0.1:5001", "127.0.0.1:6379", "other", "default", 1, 1, 2, "get"}};
}
std::vector<uint64_t> killed;
bool recordKill(const ServerState&, uint64_t id) {
  killed.push_back(id);
  return id == 9;
}

TEST_F(CommandsTest, ClientListAndKill) {
  state_.listClients = &twoClients;
  state_.killClient = &recordKill;
  killed.clear();
  std::string list = run({"client", "list"});
  EXPECT_NE(list.find("id=7 "), std::string::npos);
  EXPECT_NE(list.find("id=9 addr=127.0.0.1:5001 "), std::string::npos);
  EXPECT_NE(list.find(" name=other "), std::string::npos);
  EXPECT_NE(list.find(" cmd=client|list "), std::string::npos);  // this connection, seen live
  EXPECT_EQ(run({"client", "list", "id", "9"}).find("id=7 "), std::string::npos);
  EXPECT_EQ(run({"client", "kill", "id", "9"}), ":1\r\n");
  EXPECT_EQ(killed, std::vector<uint64_t>{9});
  EXPECT_EQ(run({"client", "kill", "id", "12345"}), ":0\r\n");
  EXPECT_EQ(run({"client", "kill", "id", "7"}), ":0\r\n");  // SKIPME yes by default
  EXPECT_FALSE(session_.closeAfterReply);
  EXPECT_EQ(run({"client", "kill", "id", "x"}), "-ERR client-id should be greater than 0\r\n");
  EXPECT_EQ(run({"client", "kill", "foo", "x"}), "-ERR syntax error\r\n");
  EXPECT_EQ(run({"client", "kill", "1.2.3.4:5"}), "-ERR No such client\r\n");
  EXPECT_EQ(run({"client", "kill", "127.0.0.1:5001"}), "+OK\r\n");
  EXPECT_EQ(run({"client", "kill", "id", "7", "skipme", "no"}), ":1\r\n");
  EXPECT_TRUE(session_.closeAfterReply);
}

TEST_F(CommandsTest, CommandInfoMatchesRedisForGet) {
  // Byte for byte what redis-server 7.0.15 answers a RESP2 client for COMMAND INFO get.
  EXPECT_EQ(
      run({"command", "info", "get"}),
      "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n"
      "+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
      "*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n"
      "$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
      "$5\r\nlimit\r\n:0\r\n*0\r\n");
  EXPECT_EQ(run({"command", "info", "nosuch"}), "*1\r\n$-1\r\n");
  std::string sub = run({"command", "info", "client|setname"});
  EXPECT_EQ(sub.substr(0, 30), "*1\r\n*10\r\n$14\r\nclient|setname\r\n");
}

TEST_F(CommandsTest, CommandCountListDocsGetKeys) {
  EXPECT_EQ(run({"command", "count"}), ":" + std::to_string(allCommands().size()) + "\r\n");
  std::string all = run({"command"});
  EXPECT_EQ(all.substr(0, all.find("\r\n")), "*" + std::to_string(allCommands().size()));
  EXPECT_EQ(run({"command", "getkeys", "mset", "a", "1", "b", "2"}), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(run({"command", "getkeys", "memory", "usage", "k"}), "*1\r\n$1\r\nk\r\n");
  EXPECT_EQ(run({"command", "getkeys", "ping", "x"}), "-ERR The command has no key arguments\r\n");
  EXPECT_EQ(run({"command", "getkeys", "nosuch", "x"}), "-ERR Invalid command specified\r\n");
  EXPECT_EQ(run({"command", "getkeys", "get", "a", "b"}),
            "-ERR Invalid number of arguments specified for command\r\n");
  EXPECT_EQ(run({"command", "list", "filterby", "pattern", "getd*"}), "*1\r\n$6\r\ngetdel\r\n");
  std::string list = run({"command", "list"});
  EXPECT_NE(list.find("$11\r\nclient|kill\r\n"), std::string::npos);
  EXPECT_EQ(run({"command", "docs", "get"}),
            "*2\r\n$3\r\nget\r\n*6\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n"
            "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n");
  EXPECT_EQ(run({"command", "docs", "nosuch"}), "*0\r\n");
  session_.proto = 3;
  std::string docs = run({"command", "docs", "client"});
  EXPECT_EQ(docs.substr(0, 20), "%1\r\n$6\r\nclient\r\n%4\r\n");
  EXPECT_NE(docs.find("$11\r\nsubcommands\r\n%"), std::string::npos);
}

TEST_F(CommandsTest, InfoSections) {
  put("a", "1");
  put("b", "22");
  std::string info = run({"info"});
  for (std::string_view part :
       {"# Server\r\nredis_version:7.0.0\r\n", "\r\nredis_mode:standalone\r\n", "\r\n\r\n# Clients\r\n",
        "# Memory\r\nused_memory:", "# Persistence\r\n", "\r\naof_enabled:0\r\n", "# Stats\r\n",
        "\r\nkeyspace_hits:0\r\n", "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n", "# Ember\r\n"}) {
    EXPECT_NE(info.find(part), std::string::npos) << part;
  }
  std::string keyspace = run({"info", "keyspace"});
  std::string body = "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n";
  EXPECT_EQ(keyspace, "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n");
  EXPECT_EQ(run({"INFO", "nosuch"}), "$0\r\n\r\n");
  std::string two = run({"info", "SERVER", "clients"});
  EXPECT_NE(two.find("# Clients\r\nconnected_clients:0"), std::string::npos);
  EXPECT_EQ(two.find("# Memory"), std::string::npos);
  session_.proto = 3;
  std::string verbatim = run({"info", "keyspace"});
  EXPECT_EQ(verbatim, "=" + std::to_string(body.size() + 4) + "\r\ntxt:" + body + "\r\n");
}

TEST_F(CommandsTest, ConfigGetSetResetstat) {
  EXPECT_EQ(run({"config", "get", "maxmemory"}), "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
  EXPECT_EQ(run({"config", "get", "save", "APPENDONLY"}),
            "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(run({"config", "get", "databases", "data*"}), "*2\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
  EXPECT_EQ(run({"config", "get", "nosuch"}), "*0\r\n");
  session_.proto = 3;
  EXPECT_EQ(run({"config", "get", "port"}), "%1\r\n$4\r\nport\r\n$4\r\n6379\r\n");
  EXPECT_EQ(run({"config", "set", "maxmemory", "1"}),
            "-ERR CONFIG SET is not supported by Ember (restart with a new config)\r\n");
  state_.keyspaceHits = 5;
  EXPECT_EQ(run({"config", "resetstat"}), "+OK\r\n");
  EXPECT_EQ(state_.keyspaceHits.load(), 0u);
}

TEST_F(CommandsTest, DbSizeAndFlush) {
  put("a", "1");
  put("b", "2");
  EXPECT_EQ(run({"dbsize"}), ":2\r\n");
  EXPECT_EQ(run({"flushall", "foo"}), "-ERR syntax error\r\n");
  options_.allowFlush = false;
  EXPECT_EQ(run({"flushall"}), "-ERR FLUSHALL is disabled by configuration ([kv] allow_flush)\r\n");
  EXPECT_EQ(run({"FlushDB", "async"}), "-ERR FLUSHDB is disabled by configuration ([kv] allow_flush)\r\n");
  EXPECT_EQ(run({"dbsize"}), ":2\r\n");
  options_.allowFlush = true;
  EXPECT_EQ(run({"flushdb", "SYNC"}), "+OK\r\n");
  EXPECT_EQ(run({"dbsize"}), ":0\r\n");
}

TEST_F(CommandsTest, ClusterSaveTimeMemoryReset) {
  EXPECT_EQ(run({"cluster", "keyslot", "foo"}), ":12182\r\n");
  EXPECT_EQ(run({"cluster", "keyslot", "{user1000}.following"}), run({"cluster", "keyslot", "user1000"}));
  EXPECT_EQ(run({"cluster", "info"}), "-ERR This instance has cluster support disabled\r\n");
  EXPECT_EQ(run({"save"}), "+OK\r\n");
  EXPECT_EQ(run({"bgsave"}), "+Background saving started\r\n");
  EXPECT_EQ(run({"bgsave", "x"}), "-ERR syntax error\r\n");
  std::string lastsave = run({"lastsave"});
  EXPECT_EQ(lastsave.substr(0, 1), ":");
  EXPECT_GE(std::stoll(lastsave.substr(1)), state_.startedUnixMs / 1000);
  std::string time = run({"time"});
  EXPECT_EQ(time.substr(0, 4), "*2\r\n");
  put("k", std::string(100, 'v'));
  EXPECT_EQ(run({"memory", "usage", "nokey"}), "$-1\r\n");
  std::string usage = run({"memory", "usage", "k"});
  ASSERT_EQ(usage.substr(0, 1), ":");
  EXPECT_GE(std::stoll(usage.substr(1)), 101);
  EXPECT_EQ(run({"memory", "usage", "k", "samples", "x"}),
            "-ERR value is not an integer or out of range\r\n");

  session_.proto = 3;
  session_.name = "n";
  EXPECT_EQ(run({"reset"}), "+RESET\r\n");
  EXPECT_EQ(session_.proto, 2);
  EXPECT_TRUE(session_.name.empty());
  EXPECT_TRUE(session_.authenticated);  // no users configured
  withUsers();
  session_.authenticated = true;
  EXPECT_EQ(run({"reset"}), "+RESET\r\n");
  EXPECT_FALSE(session_.authenticated);
}

TEST_F(CommandsTest, EngineErrorsMapToRedisReplies) {
  auto reply = [&](Status s) {
    std::string out;
    ReplyWriter writer(out, 2);
    kv::WriteSet ws;
    Context ctx{state_, *engine_, session_, writer, ws};
    engineError(ctx, s);
    return out;
  };
  EXPECT_EQ(reply(makeError(Code::kEntityTooLarge)),
            "-ERR value is larger than the maximum allowed (1024 bytes)\r\n");
  EXPECT_EQ(reply(makeError(Code::kInvalidKey)),
            "-ERR key is larger than the maximum allowed (64 bytes)\r\n");
  EXPECT_EQ(reply(makeError(Code::kQuotaExceeded, "index full")),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  EXPECT_EQ(reply(makeError(Code::kIOError, "write failed\r\nx")).substr(0, 5), "-ERR ");
  EXPECT_EQ(reply(makeError(Code::kIOError, "write failed\r\nx")).find("\r\nx"), std::string::npos);
  EXPECT_EQ(reply(makeError(Code::kBusy)).substr(0, 6), "-BUSY ");
  EXPECT_EQ(reply(makeError(Code::kInvalidArgument, "bad thing")), "-ERR bad thing\r\n");
}

}  // namespace
}  // namespace ember::resp
