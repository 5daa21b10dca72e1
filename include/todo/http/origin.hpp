// Origins as RFC 6454 compares them: the server's own (named by a request's Host) and the configured ones
// (TODO_ALLOWED_ORIGINS), for WebSocket upgrades and cross-origin (CORS) requests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace todo::http {

/// Whether a browser's Origin is this server's own, as named by the request's Host: same host, and the port
/// the Host names, or the scheme's default when it names none (either scheme: a TLS proxy may be in front).
bool same_origin(std::string_view origin, std::string_view host_header);

/// Whether `origin` is one of the configured origins ("*" for any), compared as origins.
bool listed_origin(std::string_view origin, const std::vector<std::string>& allowed);

}  // namespace todo::http
