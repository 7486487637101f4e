#pragma once
// The [tier] section and the [[tier.mappings]] tables of emberd's configuration.

#include <toml++/toml.h>

#include "app/emberd/config.h"

namespace ember::app {

// Reads [tier] and [[tier.mappings]] into c.tier. Throws std::runtime_error naming the bad key.
void readTierConfig(const toml::table& t, Config& c);

}  // namespace ember::app
