// The national MSSanté trust-space list (ListeBlancheMSSante): which domains
// belong to the trust space and which operator certificates (by subject DN) may
// carry mail for each. Immutable once loaded: share it as
// std::shared_ptr<const Whitelist> and swap the pointer on reload.
#pragma once

#include "trust/DistinguishedName.h"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plexus::trust {

class WhitelistError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Whitelist {
public:
    static constexpr std::string_view kNamespace = "https://listeblanche.mssante.fr/schema";
    static constexpr std::size_t kMaxDocumentBytes = 64 * 1024 * 1024;

    // Parse with DTDs and external entities refused. Throws WhitelistError.
    static Whitelist loadFile(const std::string& path);
    // `source` names the document in error messages.
    static Whitelist parse(std::string_view xml, const std::string& source = "(in memory)");

    // Domains compare case-insensitively; a trailing dot is ignored.
    bool containsDomain(std::string_view domain) const;
    // Whether `peer` is one of the operator certificates listed for `domain`.
    bool allows(std::string_view domain, const DistinguishedName& peer) const;
    // Whether `peer` is listed for any domain (e.g. a bounce with a null sender).
    bool knowsOperator(const DistinguishedName& peer) const;
    // The operator DNs listed for `domain`, canonical RFC 4514 text.
    std::vector<std::string> operatorDns(std::string_view domain) const;

    std::size_t domainCount() const { return operatorsByDomain_.size(); }
    std::size_t entryCount() const { return entryCount_; }  // Domaine elements
    std::string generatedAt() const { return generatedAt_; }  // DateDeGeneration, as written

private:
    Whitelist() = default;
    static Whitelist parseDocument(std::string_view xml, const std::string& source);
    std::size_t internOperator(const DistinguishedName& dn);
    const std::vector<std::size_t>* operatorsOf(std::string_view domain) const;

    std::string generatedAt_;
    std::size_t entryCount_ = 0;
    // Some 400 distinct operators serve the 5,000 domains: each DN is stored once.
    std::vector<DistinguishedName> operators_;
    std::unordered_map<std::string, std::size_t> operatorByMatchKey_;
    std::unordered_map<std::string, std::vector<std::size_t>> operatorsByDomain_;  // key: normalised domain
};

}  // namespace plexus::trust
