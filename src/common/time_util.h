#pragma once
// Wall-clock helpers and the date formats the protocols use.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ember {

int64_t nowMillis();   // system clock, ms since the epoch
int64_t nowSeconds();

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 7231 IMF-fixdate).
std::string formatHttpDate(int64_t ms);
// Accepts IMF-fixdate, RFC 850 and asctime forms; nullopt when unparsable.
std::optional<int64_t> parseHttpDate(std::string_view s);
// "2009-10-12T17:50:30.000Z" (ISO 8601, UTC, milliseconds) as S3 XML uses.
std::string formatIso8601(int64_t ms);

}  // namespace ember
