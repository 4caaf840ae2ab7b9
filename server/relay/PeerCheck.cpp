#include "relay/PeerCheck.h"

namespace plexus::relay {

std::optional<std::string> operatorRefusal(const trust::Whitelist& whitelist, std::string_view domain,
                                           const std::optional<trust::DistinguishedName>& peer)
{
    const std::string name(domain);
    if (!peer || peer->empty()) return "peer presented no certificate";
    if (!whitelist.containsDomain(domain)) return "domain " + name + " is not in the MSSanté trust space (whitelist)";
    if (whitelist.allows(domain, *peer)) return std::nullopt;
    std::string listed;
    for (const auto& dn : whitelist.operatorDns(domain)) listed += (listed.empty() ? "" : " | ") + dn;
    return "peer certificate " + peer->toString() + " is not listed for " + name + " in the MSSanté whitelist (listed: " +
           listed + ")";
}

}  // namespace plexus::relay
