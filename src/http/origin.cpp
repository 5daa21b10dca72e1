// Origins as RFC 6454 compares them (see origin.hpp).
#include "todo/http/origin.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "todo/core/text.hpp"

namespace todo::http {

namespace {

/// A host and port as RFC 6454 compares them: the host lower-cased (a reg-name or IP literal), the port a
/// number when given. nullopt for an empty host or a port that is no number from 0 to 65535.
struct Authority {
  std::string host;
  std::optional<unsigned> port;
};
std::optional<Authority> parse_authority(std::string_view a) {
  const auto bracket = a.rfind(']');
  const auto colon = a.rfind(':');
  Authority out;
  std::string_view host = a;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = a.substr(0, colon);
    const auto port = a.substr(colon + 1);
    if (!port.empty()) {  // RFC 3986 3.2.3: an empty port is none ("Host: example.com:", which we serve)
      unsigned n = 0;
      auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (ec != std::errc() || p != port.data() + port.size() || n > 65535) return std::nullopt;
      out.port = n;
    }
  }
  if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) return std::nullopt;
  out.host = lower_ascii(host);
  return out;
}

/// An http(s) origin ("scheme://host[:port]", RFC 6454 6.1) as scheme, lower-cased host and port (the
/// scheme's default when absent): "HTTP://Example.COM:80" and "http://example.com" are one origin. nullopt
/// for any other form ("null", a path, another scheme).
struct Origin {
  std::string scheme;
  std::string host;
  unsigned port;
  bool operator==(const Origin&) const = default;
};
std::optional<Origin> parse_origin(std::string_view o) {
  const auto sep = o.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower_ascii(o.substr(0, sep));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const auto authority = parse_authority(o.substr(sep + 3));
  if (!authority) return std::nullopt;
  return Origin{scheme, authority->host, authority->port.value_or(scheme == "https" ? 443 : 80)};
}

}  // namespace

bool same_origin(std::string_view origin, std::string_view host_header) {
  const auto o = parse_origin(origin);
  const auto h = parse_authority(host_header);
  if (!o || !h || o->host != h->host) return false;
  return h->port ? *h->port == o->port : o->port == (o->scheme == "https" ? 443u : 80u);
}

bool listed_origin(std::string_view origin, const std::vector<std::string>& allowed) {
  const auto o = parse_origin(origin);
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
    if (a == "*" || a == origin) return true;
    const auto listed = parse_origin(a);
    return o && listed && *o == *listed;
  });
}

}  // namespace todo::http
