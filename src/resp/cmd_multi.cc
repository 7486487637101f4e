// Transactions: MULTI, EXEC, DISCARD (https://redis.io/docs/latest/develop/interactive/transactions/).
//
// MULTI starts queueing: every later command is checked (exists, arity, auth, permissions) and, if it
// passes, copied into the session's queue with a +QUEUED reply; one that fails is answered with its error and
// dooms the transaction (EXEC then answers EXECABORT and runs nothing). EXEC runs the queue through the
// normal dispatch while no other connection runs any command (ServerState::runExclusive stops every event
// loop at a batch boundary), so the transaction is isolated as in Redis, and answers an array with one reply
// per command; a command that fails at run time (a wrong-type INCR, say) answers its error in that array and
// the others still run, as in Redis (no rollback).
//
// WATCH (optimistic locking) is not supported: Ember keeps no per-key versions, and a WATCH that could miss a
// change would be worse than a clear error. UNWATCH is accepted (nothing is ever watched).

#include <string>

#include "resp/command.h"

namespace ember::resp {

namespace {

using Args = std::span<const std::string_view>;

// Bound on what one connection may queue (Redis bounds it by its client query buffer limit).
constexpr size_t kMaxQueuedCommands = 100'000;
constexpr size_t kMaxQueuedBytes = 256ULL << 20;

void resetMulti(Session& s) {
  s.inMulti = false;
  s.multiFailed = false;
  s.queued.clear();
  s.queued.shrink_to_fit();
  s.queuedBytes = 0;
}

bool runsImmediately(std::string_view name) {
  return name == "exec" || name == "discard" || name == "multi" || name == "watch" || name == "unwatch" ||
         name == "quit" || name == "reset";
}

}  // namespace

bool queueInMulti(Context& ctx, const CommandSpec& spec, Args args) {
  Session& s = ctx.session;
  // A subcommand's spec is named "container|sub": what matters is the container.
  std::string_view name = spec.name.substr(0, spec.name.find('|'));
  if (!s.inMulti || runsImmediately(name)) {
    return false;
  }
  size_t bytes = 0;
  for (std::string_view a : args) {
    bytes += a.size();
  }
  if (s.queued.size() >= kMaxQueuedCommands || s.queuedBytes + bytes > kMaxQueuedBytes) {
    ctx.out.error("ERR too many commands queued in this transaction (Ember's limit: 100000 commands, "
                  "256 MiB)");
    s.multiFailed = true;
    return true;
  }
  std::vector<std::string>& q = s.queued.emplace_back();
  q.reserve(args.size());
  for (std::string_view a : args) {
    q.emplace_back(a);
  }
  s.queuedBytes += bytes;
  ctx.out.simple("QUEUED");
  return true;
}

void markMultiFailed(Context& ctx) {
  if (ctx.session.inMulti) {
    ctx.session.multiFailed = true;
  }
}

void cmdMulti(Context& ctx, Args) {
  if (ctx.session.inMulti) {
    ctx.out.error("ERR MULTI calls can not be nested");
    return;
  }
  resetMulti(ctx.session);
  ctx.session.inMulti = true;
  ctx.out.ok();
}

void cmdDiscard(Context& ctx, Args) {
  if (!ctx.session.inMulti) {
    ctx.out.error("ERR DISCARD without MULTI");
    return;
  }
  resetMulti(ctx.session);
  ctx.out.ok();
}

void cmdExec(Context& ctx, Args) {
  Session& s = ctx.session;
  if (!s.inMulti) {
    ctx.out.error("ERR EXEC without MULTI");
    return;
  }
  if (s.multiFailed) {
    resetMulti(s);
    ctx.out.error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(s.queued);
  resetMulti(s);
  auto run = [&] {
    ctx.out.array(queued.size());
    std::vector<std::string_view> args;
    for (const std::vector<std::string>& cmd : queued) {
      args.assign(cmd.begin(), cmd.end());
      dispatch(ctx, args);
    }
  };
  if (ctx.server.runExclusive) {
    ctx.server.runExclusive(ctx.server, s, run);
  } else {
    run();
  }
}

void cmdWatch(Context& ctx, Args) {
  if (ctx.session.inMulti) {
    ctx.out.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  ctx.out.error("ERR WATCH is not supported by Ember (no per-key versions); use MULTI/EXEC or single-key "
                "atomic commands (SET NX/XX/GET, INCR, GETDEL ...)");
}

void cmdUnwatch(Context& ctx, Args) { ctx.out.ok(); }

}  // namespace ember::resp
