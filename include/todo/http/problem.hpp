// RFC 9457 problem details: the one place where an Errc becomes an HTTP status.
#pragma once

#include "todo/core/error.hpp"
#include "todo/http/message.hpp"

namespace todo::http {

/// The HTTP status for an error code.
unsigned status_of(Errc code);

/// An application/problem+json response for the error.
Response problem(const Error& error);

}  // namespace todo::http
