#pragma once
// Redis's glob-style patterns (KEYS, SCAN MATCH, CONFIG GET): '*' any run, '?' any one byte, "[abc]",
// "[a-z]", "[^a]" a class (a reversed range "[z-a]" matches as "[a-z]"), and '\' escaping the next byte.
// Byte-wise (binary safe), case-sensitive unless noCase. Every element but '*' matches exactly one byte, so
// backtracking to the last '*' only is enough: O(pattern x text) at worst, never exponential.

#include <string_view>

namespace ember::resp {

bool globMatch(std::string_view pattern, std::string_view text, bool noCase = false);

}  // namespace ember::resp
