// Small text helpers for validating user input (UTF-8 aware where lengths are user-visible).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace todo {

/// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);
/// ASCII letters lower-cased; other bytes unchanged.
std::string lower_ascii(std::string_view s);
/// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);
/// Code points in valid UTF-8.
std::size_t utf8_length(std::string_view s);
/// Contains a control character other than tab, newline and carriage return.
bool has_control_chars(std::string_view s);

}  // namespace todo
