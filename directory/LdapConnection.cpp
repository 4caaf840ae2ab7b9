#include "directory/LdapConnection.h"

#include <Poco/String.h>

#include <fstream>
#include <iterator>

namespace plexus::directory {

namespace {

std::string readSecret(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw LdapError("cannot read the LDAP password file " + path, LDAP_PARAM_ERROR);
    std::string secret{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return secret;
}

}  // namespace

EntryAttributes readAttributes(LDAP* ldap, LDAPMessage* entry, const std::vector<std::string>& names)
{
    EntryAttributes attributes;
    for (const auto& name : names) {
        berval** values = ldap_get_values_len(ldap, entry, name.c_str());
        if (!values) continue;
        if (values[0]) attributes.emplace(name, std::string(values[0]->bv_val, values[0]->bv_len));
        ldap_value_free_len(values);
    }
    return attributes;
}

AttributeReader::AttributeReader(std::vector<std::string> lowerCaseNames) : names_(std::move(lowerCaseNames)) {}

std::size_t AttributeReader::slotOf(std::string_view name)
{
    for (const auto& [spelling, slot] : spellings_)
        if (spelling == name) return slot;
    std::size_t slot = std::string::npos;
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (Poco::icompare(std::string(name), names_[i]) == 0) slot = i;
    spellings_.emplace_back(name, slot);
    return slot;
}

bool AttributeReader::read(LDAP* ldap, LDAPMessage* entry, AttributeValues& values)
{
    values.assign(names_.size(), std::string_view());
    BerElement* raw = nullptr;
    berval dn{};
    const int rc = ldap_get_dn_ber(ldap, entry, &raw, &dn);
    // The element shares the message's buffer: free the element only.
    const std::unique_ptr<BerElement, void (*)(BerElement*)> ber(raw, [](BerElement* b) { ber_free(b, 0); });
    if (rc != LDAP_SUCCESS) return false;
    for (;;) {
        berval name{};
        berval* found = nullptr;
        if (ldap_get_attribute_ber(ldap, entry, ber.get(), &name, &found) != LDAP_SUCCESS) return false;
        // The array is allocated, the values point into the message.
        const std::unique_ptr<berval, void (*)(berval*)> owner(found, [](berval* v) { ber_memfree(v); });
        if (!name.bv_val) return true;
        const auto slot = slotOf({name.bv_val, name.bv_len});
        if (slot != std::string::npos && found && found[0].bv_val) values[slot] = {found[0].bv_val, found[0].bv_len};
    }
}

std::string LdapConnection::describe(std::string_view what, int code) const
{
    std::string text = std::string(what) + " (" + uri_ + "): " + ldap_err2string(code);
    char* diagnostic = nullptr;
    if (ldap_ && ldap_get_option(ldap_.get(), LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS &&
        diagnostic) {
        if (*diagnostic) text += std::string(" (") + diagnostic + ")";
        ldap_memfree(diagnostic);
    }
    return text;
}

void LdapConnection::fail(std::string_view what, int code) const { throw LdapError(describe(what, code), code); }

LdapConnection LdapConnection::open(const LdapSettings& settings)
{
    LDAP* raw = nullptr;
    if (const int rc = ldap_initialize(&raw, settings.uri.c_str()); rc != LDAP_SUCCESS)
        throw LdapError("invalid LDAP URI " + settings.uri + ": " + ldap_err2string(rc), rc);
    LdapConnection connection(raw, settings.uri);
    LDAP* ldap = connection.handle();
    const auto set = [&](int option, const void* value, const char* what) {
        if (const int rc = ldap_set_option(ldap, option, value); rc != LDAP_OPT_SUCCESS)
            connection.fail(std::string("cannot set ") + what, rc);
    };
    const int version = LDAP_VERSION3;
    set(LDAP_OPT_PROTOCOL_VERSION, &version, "LDAPv3");
    set(LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals off");
    const timeval timeout{settings.timeoutSeconds, 0};
    set(LDAP_OPT_NETWORK_TIMEOUT, &timeout, "the network timeout");
    set(LDAP_OPT_TIMEOUT, &timeout, "the operation timeout");

    // TLS options on this handle only, then a new TLS context built from them.
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    set(LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "certificate checking");
    const int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
    set(LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12, "TLS 1.2 minimum");
    if (!settings.caFile.empty()) set(LDAP_OPT_X_TLS_CACERTFILE, settings.caFile.c_str(), "the CA file");
    if (!settings.certFile.empty()) set(LDAP_OPT_X_TLS_CERTFILE, settings.certFile.c_str(), "the client certificate");
    if (!settings.keyFile.empty()) set(LDAP_OPT_X_TLS_KEYFILE, settings.keyFile.c_str(), "the client key");
    const int isServer = 0;
    set(LDAP_OPT_X_TLS_NEWCTX, &isServer, "a TLS context");

    if (settings.uri.starts_with("ldap://")) {
        if (const int rc = ldap_start_tls_s(ldap, nullptr, nullptr); rc != LDAP_SUCCESS)
            connection.fail("StartTLS failed", rc);
    }
    int rc = LDAP_SUCCESS;
    if (settings.saslExternal) {
        // The identity is the client certificate's; the initial response is an
        // empty authorization identity (RFC 4422 appendix A), else the server asks for it.
        berval noAuthzId{0, const_cast<char*>("")};
        rc = ldap_sasl_bind_s(ldap, nullptr, "EXTERNAL", &noAuthzId, nullptr, nullptr, nullptr);
    } else if (!settings.bindDn.empty()) {
        std::string secret = readSecret(settings.passwordFile);
        berval password{static_cast<ber_len_t>(secret.size()), secret.data()};
        rc = ldap_sasl_bind_s(ldap, settings.bindDn.c_str(), LDAP_SASL_SIMPLE, &password, nullptr, nullptr, nullptr);
        std::fill(secret.begin(), secret.end(), '\0');
    }
    if (rc != LDAP_SUCCESS) connection.fail(settings.saslExternal ? "SASL EXTERNAL bind failed" : "bind failed", rc);
    return connection;
}

}  // namespace plexus::directory
