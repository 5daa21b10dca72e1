// Byte and URL encodings: base64url (cursors, tokens), percent-decoding and query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace todo {

/// RFC 4648 §5 base64url, without padding.
std::string base64url_encode(std::string_view bytes);
/// The 64-bit FNV-1a hash of `bytes` in 16 lower-case hex digits: a short, stable fingerprint (not a secret).
std::string fnv1a_hex(std::string_view bytes);

/// Decodes unpadded base64url. nullopt for any character outside the alphabet ('=' included), a length of
/// 4n+1, or non-zero unused bits in the last character, so that each byte string has exactly one accepted
/// encoding.
std::optional<std::string> base64url_decode(std::string_view s);

/// A page cursor: `payload` behind its FNV-1a check, base64url. The check is not a secret (a client may
/// make a cursor of its own, which lists only its own data); it makes a cursor that was cut, joined or
/// altered on its way (any one character changed) a 400 rather than a page from another position.
std::string seal_cursor(std::string_view payload);
/// The payload of a seal_cursor text; nullopt if it is not base64url, its check does not match, or the
/// payload holds a NUL byte (a JSON parser would stop there and let the bytes after it through).
std::optional<std::string> open_cursor(std::string_view cursor);

/// Percent-decodes `s`; '+' becomes a space when `plus_is_space`. A '%' not followed by two hex digits throws
/// todo::Error(Errc::bad_request). The result is raw bytes: it is not checked to be UTF-8.
std::string url_decode(std::string_view s, bool plus_is_space = true);

/// Splits a query string (without the leading '?') on '&' into decoded (key, value) pairs, in order,
/// duplicates kept: "a=1&b=x%20y&a=2" → {a,1} {b,x y} {a,2}. A piece without '=' has the value ""; empty
/// pieces are skipped. Bad escapes throw as url_decode does.
std::vector<std::pair<std::string, std::string>> parse_query_string(std::string_view qs);

}  // namespace todo
