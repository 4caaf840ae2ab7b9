// The MSSanté rule for the receiving side of a relay: after a verified TLS
// handshake, the peer's certificate subject DN must be one of the
// DNCertificatOperateur values the whitelist lists for the recipients' domain.
#pragma once

#include "trust/DistinguishedName.h"
#include "trust/Whitelist.h"

#include <optional>
#include <string>
#include <string_view>

namespace plexus::relay {

// Why the peer may not receive mail for `domain`, or nullopt when it may.
// `peer` is the subject of its certificate, nullopt when it presented none.
std::optional<std::string> operatorRefusal(const trust::Whitelist& whitelist, std::string_view domain,
                                           const std::optional<trust::DistinguishedName>& peer);

}  // namespace plexus::relay
