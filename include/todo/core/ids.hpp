// Public ids: version 4 (random) and version 7 (time-ordered) UUIDs in canonical text form.
#pragma once

#include <string>
#include <string_view>

namespace todo {

/// A new random (version 4, RFC 9562 variant) UUID, lower-case canonical 8-4-4-4-12, from libsodium's
/// randombytes_buf.
std::string new_uuid();

/// A new time-ordered UUID (version 7, RFC 9562 section 5.7): the Unix time in milliseconds in the first 48
/// bits, then 74 random bits. For the ids of rows that are written often (tasks, events, reminders): ids made
/// one after another sort together, so inserting one touches the index pages of the latest ones instead of a
/// random page of each index that holds the id. Ids made within one millisecond are in random order among
/// themselves. Not for anything whose prefix must be unique on its own (the first 12 hex digits are the
/// time).
std::string new_ordered_uuid();

/// True for the canonical form: 36 characters, hyphens at 8, 13, 18 and 23, hex digits of either case
/// elsewhere. Any version and variant is accepted; braces, "urn:uuid:" and whitespace are not.
bool is_uuid(std::string_view s);

/// The lower-case form. Precondition: is_uuid(s).
std::string normalize_uuid(std::string_view s);

}  // namespace todo
