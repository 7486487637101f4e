#pragma once
// The /tier routes of the admin endpoint: the tier manager's flush barrier, per-object status and
// per-mapping reports as JSON (docs/tiering.md, "Admin API"). adminHandler() sends every /tier
// request here; the routes themselves are a table in admin_tier.cc.

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "http/http.h"
#include "tier/admin.h"

namespace ember::app {

// True for "/tier" and "/tier/..." (the raw request path): the paths serveTier() answers.
bool isTierPath(std::string_view rawPath);

// Answers one /tier request (any method): 200 with a JSON body, or an error as
// {"error": "<CodeName>", "message": "..."} with 400, 404, 405 (and Allow), 503 or 500. `tier` may
// be null (no cold mappings configured): every /tier path then answers 404.
asio::awaitable<void> serveTier(tier::TierAdmin* tier, http::Request& req, http::RequestBody& body,
                                http::ResponseWriter& out);

// The HTTP status of an error from the tier manager (or a route's own parameter check).
int tierErrorStatus(Code code);

}  // namespace ember::app
