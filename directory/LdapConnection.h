// One connection to an LDAP server (libldap), always over TLS with the
// server's certificate checked: ldaps://, or ldap:// upgraded with StartTLS
// (RFC 4513 §3). Bound with a simple DN and password (read from a file, never
// logged) or with SASL EXTERNAL and a client certificate.
#pragma once

#include "directory/LdapSettings.h"

#include <ldap.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// An LDAP failure with its result code (LDAP_SERVER_DOWN, LDAP_SIZELIMIT_EXCEEDED...).
class LdapError : public std::runtime_error {
public:
    LdapError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

struct LdapMessageFree {
    void operator()(LDAPMessage* message) const { ldap_msgfree(message); }
};
using LdapMessage = std::unique_ptr<LDAPMessage, LdapMessageFree>;

// The first value of each of the attributes named (lower-case) that the entry has.
EntryAttributes readAttributes(LDAP* ldap, LDAPMessage* entry, const std::vector<std::string>& names);

// Reads the first value of each wanted attribute in one pass over an entry's
// BER, instead of one search by name per attribute: the sync reads a million
// entries. Attribute names (case-insensitive) are matched once per spelling.
class AttributeReader {
public:
    explicit AttributeReader(std::vector<std::string> lowerCaseNames);
    // values[i]: the first value of names[i], "" when absent; views into
    // `entry`, valid while it lives. False when the entry does not decode.
    bool read(LDAP* ldap, LDAPMessage* entry, AttributeValues& values);

private:
    std::size_t slotOf(std::string_view name);  // index in names_, or npos

    std::vector<std::string> names_;
    std::vector<std::pair<std::string, std::size_t>> spellings_;  // as the server writes them
};

class LdapConnection {
public:
    // Connects, secures and binds; throws LdapError saying which step failed.
    static LdapConnection open(const LdapSettings& settings);

    LDAP* handle() const { return ldap_.get(); }
    const std::string& uri() const { return uri_; }
    // "what: <libldap's text for code>[ (server's diagnostic)]".
    std::string describe(std::string_view what, int code) const;
    [[noreturn]] void fail(std::string_view what, int code) const;

private:
    struct Unbind {
        void operator()(LDAP* ldap) const { ldap_unbind_ext_s(ldap, nullptr, nullptr); }
    };
    LdapConnection(LDAP* ldap, std::string uri) : ldap_(ldap), uri_(std::move(uri)) {}

    std::unique_ptr<LDAP, Unbind> ldap_;
    std::string uri_;
};

}  // namespace plexus::directory
