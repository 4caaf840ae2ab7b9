// Directory lookup and search for plugins (host services directory_lookup and
// directory_search). An interface: the national directory (LDAP sync, national
// files) fills it in its own issue; until then LocalDirectory answers from this
// instance's own mailboxes. Implementations are thread-safe.
#pragma once

#include "store/ConnectionPool.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

struct DirectoryEntry {
    std::string address;
    std::string type;         // "PER", "ORG", "APP", "CAB"
    std::string nationalId;   // RPPS/ADELI; "" when none
    std::string structureId;  // FINESS/SIRET; "" when none
    std::string displayName;  // "" when unknown
    std::string profession;   // "" when unknown
    std::string city;         // "" when unknown
    std::string source;       // "local", "ldap", "national-file"
};

struct DirectoryQuery {
    std::string text;        // a prefix of the address, its domain or the national id; "" any
    std::string nationalId;  // exact; "" any
    std::string profession;  // "" any
    std::string city;        // "" any
    std::size_t limit = 50;  // 0: 50; at most 1000
};

class DirectoryService {
public:
    static constexpr std::size_t defaultLimit = 50;
    static constexpr std::size_t maxLimit = 1000;

    virtual ~DirectoryService() = default;
    // Case-insensitive on the address.
    virtual std::optional<DirectoryEntry> lookup(std::string_view address) = 0;
    // Entries matching every criterion given, in address order.
    virtual std::vector<DirectoryEntry> search(const DirectoryQuery& query) = 0;

protected:
    // The query's limit, 0 meaning the default and clamped to maxLimit.
    static std::size_t effectiveLimit(const DirectoryQuery& query);
};

// This instance's accounts, with source "local".
class LocalDirectory : public DirectoryService {
public:
    explicit LocalDirectory(store::ConnectionPool& pool) : pool_(pool) {}
    std::optional<DirectoryEntry> lookup(std::string_view address) override;
    std::vector<DirectoryEntry> search(const DirectoryQuery& query) override;

private:
    store::ConnectionPool& pool_;
};

}  // namespace plexus::plugins
