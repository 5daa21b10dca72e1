// Public ids: random version 4 UUIDs in canonical text form.
#pragma once

#include <string>
#include <string_view>

namespace todo {

/// A new random (version 4, RFC 9562 variant) UUID, lower-case canonical 8-4-4-4-12, from libsodium's
/// randombytes_buf.
std::string new_uuid();

/// True for the canonical form: 36 characters, hyphens at 8, 13, 18 and 23, hex digits of either case
/// elsewhere. Any version and variant is accepted; braces, "urn:uuid:" and whitespace are not.
bool is_uuid(std::string_view s);

/// The lower-case form. Precondition: is_uuid(s).
std::string normalize_uuid(std::string_view s);

}  // namespace todo
