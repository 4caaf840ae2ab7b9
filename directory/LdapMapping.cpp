#include "directory/LdapMapping.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace plexus::directory {

namespace {

constexpr std::string_view kMandatory[] = {"mailbox", "mailbox_type"};

// Positions in fieldNames().
enum Field : std::size_t {
    nationalId, civility, lastName, firstName, professionCode, professionLabel, specialtyCode, specialtyLabel,
    practiceMode, finess, siret, structureName, address, postcode, city, department, mailbox, mailboxType, service,
    hidden
};

bool isTrue(std::string_view text)
{
    const auto value = Poco::toLower(std::string(text));
    return value == "true" || value == "1" || value == "yes" || value == "oui";
}

std::string_view trimmed(std::string_view text)
{
    const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return text;
}

// The value of one field of the model in an entry's records; "" when unknown.
std::string fieldValue(const MappedEntry& entry, std::string_view field)
{
    const Mailbox& m = entry.mailbox;
    if (field == "mailbox") return m.address;
    if (field == "mailbox_type") return m.type;
    if (field == "service") return m.service;
    if (field == "hidden") return m.hidden ? "TRUE" : "FALSE";
    if (field == "national_id") return m.ownerNationalId;
    if (entry.person) {
        const Person& p = *entry.person;
        const std::pair<std::string_view, const std::string*> personFields[] = {
            {"civility", &p.civility},           {"last_name", &p.lastName},
            {"first_name", &p.firstName},        {"profession_code", &p.professionCode},
            {"profession_label", &p.professionLabel}, {"specialty_code", &p.specialtyCode},
            {"specialty_label", &p.specialtyLabel},   {"practice_mode", &p.practiceMode}};
        for (const auto& [name, value] : personFields)
            if (name == field) return *value;
    }
    if (entry.structure) {
        const Structure& s = *entry.structure;
        const std::pair<std::string_view, const std::string*> structureFields[] = {
            {"finess", &s.finess},     {"siret", &s.siret},       {"structure_name", &s.name},
            {"address", &s.address},   {"postcode", &s.postcode}, {"city", &s.city},
            {"department", &s.department}};
        for (const auto& [name, value] : structureFields)
            if (name == field) return *value;
    }
    return {};
}

}  // namespace

const std::vector<std::string_view>& LdapMapping::fieldNames()
{
    static const std::vector<std::string_view> names{
        "national_id", "civility",   "last_name",       "first_name",     "profession_code", "profession_label",
        "specialty_code", "specialty_label", "practice_mode", "finess",    "siret",           "structure_name",
        "address",     "postcode",   "city",            "department",     "mailbox",         "mailbox_type",
        "service",     "hidden"};
    return names;
}

LdapMapping LdapMapping::fromFields(const std::map<std::string, std::string>& fieldToAttribute)
{
    std::map<std::string, std::string> fields;
    for (const auto& [field, attribute] : fieldToAttribute) {
        const auto name = Poco::toLower(field);
        if (std::ranges::find(fieldNames(), name) == fieldNames().end())
            throw MappingError("unknown directory field \"" + field + "\" in the LDAP mapping");
        const auto trimmed = Poco::trim(attribute);
        // An attribute description: letters, digits, '-' (RFC 4512 §1.4), or an OID.
        if (trimmed.empty() || !std::ranges::all_of(trimmed, [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
            }))
            throw MappingError("the LDAP attribute for \"" + field + "\" is not an attribute name: \"" + attribute +
                               "\"");
        fields[name] = Poco::toLower(trimmed);
    }
    for (const auto field : kMandatory)
        if (!fields.contains(std::string(field)))
            throw MappingError("the LDAP mapping has no attribute for \"" + std::string(field) + "\"");
    return LdapMapping(std::move(fields));
}

LdapMapping::LdapMapping(std::map<std::string, std::string> fieldToAttribute)
    : fieldToAttribute_(std::move(fieldToAttribute)), fieldSlots_(fieldNames().size(), std::string::npos)
{
    std::set<std::string> unique;
    for (const auto& [field, attribute] : fieldToAttribute_) unique.insert(attribute);
    attributes_.assign(unique.begin(), unique.end());
    for (const auto& [field, attribute] : fieldToAttribute_) {
        const auto position = std::ranges::find(fieldNames(), field) - fieldNames().begin();
        fieldSlots_[static_cast<std::size_t>(position)] =
            static_cast<std::size_t>(std::ranges::lower_bound(attributes_, attribute) - attributes_.begin());
    }
}

std::vector<std::string> LdapMapping::attributes() const { return attributes_; }

EntryAttributes LdapMapping::attributesOf(const MappedEntry& entry) const
{
    EntryAttributes attributes;
    for (const auto& [field, attribute] : fieldToAttribute_)
        if (auto value = fieldValue(entry, field); !value.empty()) attributes[attribute] = std::move(value);
    return attributes;
}

LdapMapping::Result LdapMapping::map(const EntryAttributes& attributes, const std::string& source,
                                     const std::string& key) const
{
    AttributeValues values(attributes_.size());
    for (std::size_t i = 0; i < attributes_.size(); ++i)
        if (const auto found = attributes.find(attributes_[i]); found != attributes.end()) values[i] = found->second;
    return mapValues(values, source, key);
}

LdapMapping::Result LdapMapping::mapValues(const AttributeValues& values, const std::string& source,
                                     const std::string& key) const
{
    const auto view = [&](Field name) {
        const auto slot = name < fieldSlots_.size() ? fieldSlots_[name] : std::string::npos;
        return slot < values.size() ? trimmed(values[slot]) : std::string_view();
    };
    const auto field = [&](Field name) { return std::string(view(name)); };
    MappedEntry entry;
    Mailbox& mailbox = entry.mailbox;
    mailbox.source = source;
    mailbox.sourceKey = key;
    mailbox.address = Poco::toLower(field(Field::mailbox));
    mailbox.type = Poco::toUpper(field(mailboxType));
    mailbox.service = field(service);
    mailbox.hidden = isTrue(view(hidden));
    if (mailbox.address.empty() || mailbox.address.find('@') == std::string::npos)
        return {std::nullopt, "no mailbox address"};
    if (mailbox.type != "PER" && mailbox.type != "ORG" && mailbox.type != "APP" && mailbox.type != "CAB")
        return {std::nullopt, "mailbox type \"" + mailbox.type + "\" is not PER, ORG, APP or CAB"};

    if (auto owner = field(nationalId); !owner.empty()) {
        entry.person = Person{source,
                              key,
                              owner,
                              field(civility),
                              field(lastName),
                              field(firstName),
                              field(professionCode),
                              field(professionLabel),
                              field(specialtyCode),
                              field(specialtyLabel),
                              field(practiceMode)};
        mailbox.ownerNationalId = std::move(owner);
    }
    Structure structure{source,         key,           field(finess), field(siret),      field(structureName),
                        field(address), field(postcode), field(city), field(department)};
    if (!structure.structureId().empty()) {
        mailbox.ownerStructureId = structure.structureId();
        entry.structure = std::move(structure);
    }
    const bool personal = mailbox.type == "PER" || mailbox.type == "CAB";
    if (personal && !entry.person) return {std::nullopt, mailbox.type + " mailbox without a national id"};
    if (!personal && !entry.structure) return {std::nullopt, mailbox.type + " mailbox without a FINESS or SIRET"};
    return {std::move(entry), {}};
}

}  // namespace plexus::directory
