// How an LDAP entry becomes directory records: for every field of the model
// (directory/DirectoryStore.h), the attribute that holds it. The mapping is
// configuration (`map.FIELD = attribute` in [directory.ldap]), because no
// official LDAP schema of the national directory is public.
#pragma once

#include "directory/DirectoryStore.h"

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

class MappingError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// An entry's attributes: lower-cased attribute name -> first value.
using EntryAttributes = std::map<std::string, std::string>;
// An entry's first value of each attribute of LdapMapping::attributes(), by
// position ("" when absent): views into the LDAP message being read.
using AttributeValues = std::vector<std::string_view>;

// The records of one entry. A mailbox always; its owner person when the
// national id is mapped and present, its structure when a FINESS or SIRET is.
struct MappedEntry {
    Mailbox mailbox;
    std::optional<Person> person;
    std::optional<Structure> structure;
};

class LdapMapping {
public:
    // Maps nothing: every entry is malformed until fromFields gives it fields.
    LdapMapping() = default;

    // The field names `map.FIELD` accepts, in the model's order.
    static const std::vector<std::string_view>& fieldNames();

    // field -> attribute; throws MappingError for an unknown field, an empty
    // attribute or a missing mandatory field (mailbox, mailbox_type).
    static LdapMapping fromFields(const std::map<std::string, std::string>& fieldToAttribute);

    // The attributes to request from the server, lower-cased, without duplicates.
    std::vector<std::string> attributes() const;

    // The entry's records keyed by (source, key), or the reason it is
    // malformed (no address, unknown type, PER without national id...).
    struct Result {
        std::optional<MappedEntry> entry;
        std::string problem;
    };
    Result map(const EntryAttributes& attributes, const std::string& source, const std::string& key) const;
    // The same from values by position in attributes() (the sync's one-pass read).
    Result mapValues(const AttributeValues& values, const std::string& source, const std::string& key) const;

    // The inverse of map, for publication: attribute -> value of every mapped
    // field the entry has a value for (hidden as RFC 4517 Boolean "TRUE"/"FALSE").
    EntryAttributes attributesOf(const MappedEntry& entry) const;

    const std::map<std::string, std::string>& fields() const { return fieldToAttribute_; }

private:
    explicit LdapMapping(std::map<std::string, std::string> fieldToAttribute);

    std::map<std::string, std::string> fieldToAttribute_;  // attributes lower-cased
    std::vector<std::string> attributes_;                  // sorted, unique
    std::vector<std::size_t> fieldSlots_;  // by position in fieldNames(): index in attributes_, or npos
};

}  // namespace plexus::directory
