// Distinguished names as the MSSanté trust space compares them: the national
// whitelist names each operator certificate by its subject DN in RFC 4514 text,
// and a peer is accepted when its certificate's subject matches one of them.
#pragma once

#include <openssl/types.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::trust {

class DnError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One AttributeTypeAndValue.
struct DnAttribute {
    std::string type;   // canonical short name ("CN", "ST", "EMAILADDRESS"…) or a dotted OID
    std::string value;  // UTF-8, unescaped, as written (not normalised)
    bool operator==(const DnAttribute&) const = default;
};

// Several attributes only in a multi-valued RDN ("CN=a+UID=b").
using RelativeDistinguishedName = std::vector<DnAttribute>;

class DistinguishedName {
public:
    DistinguishedName() = default;  // the empty DN, equal to no parsed DN

    // RFC 4514 text, plus what the national list writes: spaces around ',', '+'
    // and '=', RFC 2253 quoted values (O="A  B"), '"' unescaped inside a value.
    // Throws DnError.
    static DistinguishedName parse(std::string_view rfc4514);
    static DistinguishedName fromX509Name(const X509_NAME* name);
    static DistinguishedName fromX509(const X509* certificate);  // its subject

    // Most specific first (RFC 4514 order), as written.
    const std::vector<RelativeDistinguishedName>& rdns() const { return rdns_; }
    bool empty() const { return rdns_.empty(); }

    // RFC 4514 text with canonical type names and minimal escaping (UTF-8 kept).
    std::string toString() const;

    // The whitelist matching rule: same RDNs in the same order or in exactly the
    // reverse order, type aliases resolved, values compared with spaces trimmed
    // and folded and ASCII letters case-insensitive.
    bool operator==(const DistinguishedName& other) const { return matchKey_ == other.matchKey_; }

    // Equal DNs, and only they, have equal keys: use it to index DNs in hash maps.
    const std::string& matchKey() const { return matchKey_; }

private:
    explicit DistinguishedName(std::vector<RelativeDistinguishedName> rdns);

    std::vector<RelativeDistinguishedName> rdns_;
    std::string matchKey_;
};

}  // namespace plexus::trust
