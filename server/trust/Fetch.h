// Documents the trust space publishes (the whitelist, its checksum, the CAs'
// CRLs) fetched from an https:// URL or read from a file, with a size cap.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plexus::trust {

class FetchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `location` without user information and query, fit for logs and events.
std::string displayLocation(const std::string& location);
bool isUrl(std::string_view location);
// Throws FetchError unless `location` is an https:// URL with a host.
void checkHttpsUrl(const std::string& location);
// The document at an https:// URL (certificate and host name verified against
// `caFile`, or the system CAs when empty; TLS 1.2+; timeouts) or in a file, up
// to `maxBytes`. Plain http:// is refused. Throws FetchError.
std::string fetchDocument(const std::string& location, const std::string& caFile, std::size_t maxBytes);

}  // namespace plexus::trust
