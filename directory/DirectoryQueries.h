// Read queries on the directory database (a store::Database opened on it,
// e.g. DirectoryStore::database() or a store::ConnectionPool lease).
//
// Hidden ("liste rouge") mailboxes: search never returns them; an exact
// address lookup does (flagged), because the server must still know that the
// address exists and of which type; mailboxesOf returns them only when asked
// (operator commands), never to users.
#pragma once

#include "directory/DirectoryStore.h"
#include "directory/NameFolding.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// A mailbox with what is known of its owner in the mailbox's source.
struct DirectoryHit {
    Mailbox mailbox;
    std::optional<Person> person;
    std::optional<Structure> structure;

    // "Dr Jeanne Dupont", or the structure's name; "" when unknown.
    std::string displayName() const;
};

struct SearchQuery {
    std::string text{};        // free text: every word must start a word of the entry (any field)
    std::string profession{};  // words of the profession's code or label, e.g. "10" or "médecin"
    std::string specialty{};   // words of the savoir-faire's code or label
    std::string city{};        // words of the city, postcode or department
    std::string structure{};   // words of the structure's name, FINESS or SIRET
    std::size_t limit = 50;  // 0: 50; at most maxLimit

    static constexpr std::size_t defaultLimit = 50;
    static constexpr std::size_t maxLimit = 1000;
    static constexpr std::size_t maxTextBytes = 256;  // per field; longer is an error
};

class InvalidQuery : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sets up a connection that serves these queries: reads go straight to the
// kernel's page cache through a memory map instead of a read() and a copy per
// page, which was a third of a search's time at 1 M entries.
void mapForReads(store::Database& db);

// Is this an MSSanté mailbox? Case-insensitive. Hidden mailboxes included.
std::optional<DirectoryHit> lookupAddress(store::Database& db, std::string_view address);
// For recipient validation: is the address a mailbox of the copy (hidden ones
// too), and has the copy been loaded at all (a sync or an import)?
enum class AddressStatus { listed, unlisted, notLoaded };
AddressStatus addressStatus(store::Database& db, std::string_view address);
// A professional's mailboxes by national id ("8"+RPPS or "0"+ADELI).
std::vector<DirectoryHit> mailboxesOf(store::Database& db, std::string_view nationalId, bool includeHidden);
// The person records held for a national id, one per source.
std::vector<Person> personsOf(store::Database& db, std::string_view nationalId);
// The first structure record held for a FINESS or SIRET, whatever its source.
std::optional<Structure> structureOf(store::Database& db, std::string_view structureId);
// Visible mailboxes matching every criterion given. Ranked by how the text
// matches: entries whose owner's name holds every word whole first, then those
// whose name has words starting with each, then those matching in any field;
// within a tier persons before structures, then by last name, first name
// (ignoring case and accents: "Émile" among the E's) and age of the entry. A tier ranks at most max(limit, 100) of its
// matches, the oldest: a name shared by more entries shows that many, in name order.
// No criterion with a word: no result. Throws InvalidQuery on a field too long.
std::vector<DirectoryHit> search(store::Database& db, const SearchQuery& query);

// Whether a query has a criterion that may hold a word (letters or digits);
// a query without one is a usage error.
bool hasCriteria(const SearchQuery& query);
// The FTS5 MATCH expression of each tier `search` runs for a query, best
// first (one, the filters', without text; none without any word). The words
// are the index's own tokens, each quoted, so that FTS5 syntax in the input
// ("*:^()-, OR, NEAR) is only text. For diagnostics: the benchmark times the
// tiers of its slowest searches.
std::vector<std::string> tierExpressions(const NameFolder& folder, const SearchQuery& query);

}  // namespace plexus::directory
