#include "directory/LdapPublish.h"

#include "directory/LdapConnection.h"

#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <algorithm>
#include <optional>
#include <span>
#include <cctype>
#include <stdexcept>

namespace plexus::directory {

namespace {

bool isDescriptor(std::string_view name)
{
    return !name.empty() && std::ranges::all_of(name, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    });
}

// "ATTRIBUTE=VALUE", the value escaped by libldap.
std::string rdnOf(const std::string& attribute, const std::string& value)
{
    LDAPAVA ava{};
    ava.la_attr = berval{static_cast<ber_len_t>(attribute.size()), const_cast<char*>(attribute.data())};
    ava.la_value = berval{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())};
    ava.la_flags = LDAP_AVA_STRING;
    LDAPAVA* rdn[] = {&ava, nullptr};
    char* text = nullptr;
    if (const int rc = ldap_rdn2str(rdn, &text, LDAP_DN_FORMAT_LDAPV3); rc != LDAP_SUCCESS)
        throw LdapError("cannot make an RDN of " + attribute + "=" + value + ": " + ldap_err2string(rc), rc);
    std::string result(text);
    ldap_memfree(text);
    return result;
}

// Connection lost: the rest of the publication cannot go on.
bool isConnectionLost(int code)
{
    return code == LDAP_SERVER_DOWN || code == LDAP_CONNECT_ERROR || code == LDAP_TIMEOUT;
}

// The attributes of an add or modify (one LDAPMod each, RFC 4511 §4.7), their
// names and values kept alive by the caller.
class Modifications {
public:
    void add(int operation, const std::string& attribute, std::span<const std::string> values)
    {
        auto& mod = mods_.emplace_back();
        mod.mod_op = operation | LDAP_MOD_BVALUES;
        mod.mod_type = const_cast<char*>(attribute.c_str());
        auto& list = values_.emplace_back();
        for (const auto& value : values)
            list.push_back(berval{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())});
    }
    bool empty() const { return mods_.empty(); }
    // A NULL-terminated LDAPMod* array; valid until the next add.
    LDAPMod** pointers()
    {
        valuePointers_.assign(mods_.size(), {});
        pointers_.clear();
        for (std::size_t i = 0; i < mods_.size(); ++i) {
            auto& list = valuePointers_[i];
            for (auto& value : values_[i]) list.push_back(&value);
            list.push_back(nullptr);
            mods_[i].mod_bvalues = values_[i].empty() ? nullptr : list.data();
            pointers_.push_back(&mods_[i]);
        }
        pointers_.push_back(nullptr);
        return pointers_.data();
    }

private:
    std::vector<LDAPMod> mods_;
    std::vector<std::vector<berval>> values_;
    std::vector<std::vector<berval*>> valuePointers_;
    std::vector<LDAPMod*> pointers_;
};

struct Wanted {
    std::string address;
    std::string rdn;
    EntryAttributes attributes;
    PublishedState state;
};

class Publisher {
public:
    Publisher(const PublishSettings& settings, store::Database& directory, PublishSummary& summary)
        : settings_(settings), directory_(directory), summary_(summary), attributes_(settings.ldap.mapping.attributes())
    {
    }

    void connect() { connection_.emplace(LdapConnection::open(settings_.ldap)); }

    // Makes the successes recorded so far durable (also when the publication stops on an error).
    void commit()
    {
        if (recorded_) recorded_->commit();
        recorded_.reset();
        pending_ = 0;
    }

    // An entry already there (another publisher, or a publication cut short) is updated instead.
    void add(const Wanted& wanted) { add(wanted, summary_.added, true); }

    void change(const Wanted& wanted, const PublishedState& before)
    {
        if (!before.dn.empty() && before.dn != wanted.state.dn) {
            const int rc = ldap_rename_s(ldap(), before.dn.c_str(), wanted.rdn.c_str(), nullptr, 1, nullptr, nullptr);
            if (rc == LDAP_NO_SUCH_OBJECT) return add(wanted, summary_.changed, true);
            if (rc != LDAP_SUCCESS) return failed(wanted.address, "rename of " + before.dn, rc);
        }
        update(wanted, summary_.changed, true);
    }

    void remove(const std::string& address, const PublishedState& before)
    {
        const int rc = ldap_delete_ext_s(ldap(), before.dn.c_str(), nullptr, nullptr);
        if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) return failed(address, "delete of " + before.dn, rc);
        record([&] { forgetPublished(directory_, settings_.target(), address); });
        ++summary_.removed;
    }

private:
    LDAP* ldap() const { return connection_->handle(); }

    // `counter` is the summary's count this entry goes to; an add that finds
    // the entry updates it, an update that does not find it adds it, once.
    void add(const Wanted& wanted, std::size_t& counter, bool mayUpdate)
    {
        Modifications mods;
        const std::string objectClass = "objectClass";
        mods.add(LDAP_MOD_ADD, objectClass, settings_.objectClasses);
        for (const auto& [attribute, value] : wanted.attributes) mods.add(LDAP_MOD_ADD, attribute, {&value, 1});
        const int rc = ldap_add_ext_s(ldap(), wanted.state.dn.c_str(), mods.pointers(), nullptr, nullptr);
        if (rc == LDAP_ALREADY_EXISTS && mayUpdate) return update(wanted, counter, false);
        if (rc != LDAP_SUCCESS) return failed(wanted.address, "add of " + wanted.state.dn, rc);
        succeeded(wanted, counter);
    }

    // Replaces the mapped attributes whose value differs from the entry's and
    // deletes those the mailbox has no value for any more (RFC 4511 §4.6).
    void update(const Wanted& wanted, std::size_t& counter, bool mayAdd)
    {
        std::vector<char*> names;
        for (const auto& name : attributes_) names.push_back(const_cast<char*>(name.c_str()));
        names.push_back(nullptr);
        timeval timeout{settings_.ldap.timeoutSeconds, 0};
        LDAPMessage* received = nullptr;
        const int rc = ldap_search_ext_s(ldap(), wanted.state.dn.c_str(), LDAP_SCOPE_BASE, "(objectClass=*)",
                                         names.data(), 0, nullptr, nullptr, &timeout, 1, &received);
        const LdapMessage result(received);
        LDAPMessage* entry = rc == LDAP_SUCCESS ? ldap_first_entry(ldap(), result.get()) : nullptr;
        const int found = rc == LDAP_SUCCESS && !entry ? LDAP_NO_SUCH_OBJECT : rc;
        if (found == LDAP_NO_SUCH_OBJECT && mayAdd) return add(wanted, counter, false);
        if (!entry) return failed(wanted.address, "read of " + wanted.state.dn, found);
        const auto current = readAttributes(ldap(), entry, attributes_);

        Modifications mods;
        for (const auto& name : attributes_) {
            const auto want = wanted.attributes.find(name);
            const auto have = current.find(name);
            if (want != wanted.attributes.end() && (have == current.end() || have->second != want->second))
                mods.add(LDAP_MOD_REPLACE, name, {&want->second, 1});
            else if (want == wanted.attributes.end() && have != current.end())
                mods.add(LDAP_MOD_DELETE, name, {});
        }
        if (!mods.empty()) {
            const int modified = ldap_modify_ext_s(ldap(), wanted.state.dn.c_str(), mods.pointers(), nullptr, nullptr);
            if (modified != LDAP_SUCCESS) return failed(wanted.address, "modify of " + wanted.state.dn, modified);
        }
        succeeded(wanted, counter);
    }

    void succeeded(const Wanted& wanted, std::size_t& counter)
    {
        record([&] { recordPublished(directory_, settings_.target(), wanted.address, wanted.state); });
        ++counter;
    }

    // Successes are committed in groups: one fsync per group, not per entry. A
    // publication killed before a commit adds its entries again next time, as
    // updates of the entries found (68), so never twice.
    void record(const auto& write)
    {
        if (!recorded_) recorded_.emplace(directory_);
        write();
        if (++pending_ == kCommitEvery) commit();
    }

    void failed(const std::string& address, const std::string& what, int code)
    {
        if (isConnectionLost(code)) connection_->fail(what, code);
        ++summary_.failed;
        summary_.failures.push_back(address + ": " + connection_->describe(what, code));
    }

    const PublishSettings& settings_;
    store::Database& directory_;
    PublishSummary& summary_;
    std::vector<std::string> attributes_;
    std::optional<LdapConnection> connection_;
    static constexpr std::size_t kCommitEvery = 200;
    std::optional<store::Transaction> recorded_;
    std::size_t pending_ = 0;
};

}  // namespace

bool hasPublishTarget(const Poco::Util::AbstractConfiguration& config) { return hasLdapSource(config, publishSection); }

PublishSettings loadPublishSettings(const Poco::Util::AbstractConfiguration& config)
{
    const std::string prefix = std::string(publishSection) + ".";
    PublishSettings s;
    s.ldap = loadLdapSettings(config, publishSection);
    const Poco::StringTokenizer classes(config.getString(prefix + "object_class", ""), ",",
                                        Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    for (const auto& name : classes) {
        if (!isDescriptor(name)) throw std::invalid_argument(prefix + "object_class: \"" + name + "\" is not a name");
        s.objectClasses.push_back(name);
    }
    if (s.objectClasses.empty())
        throw std::invalid_argument(prefix + "object_class is missing (the object classes of new entries)");
    const auto mapped = s.ldap.mapping.attributes();
    s.rdnAttribute = Poco::toLower(Poco::trim(config.getString(prefix + "rdn", "")));
    if (s.rdnAttribute.empty()) s.rdnAttribute = s.ldap.mapping.fields().at("mailbox");
    if (std::ranges::find(mapped, s.rdnAttribute) == mapped.end())
        throw std::invalid_argument(prefix + "rdn must be one of the mapped attributes, not \"" + s.rdnAttribute +
                                    "\"");
    return s;
}

std::string entryDn(const std::string& rdnAttribute, const std::string& value, const std::string& baseDn)
{
    return rdnOf(rdnAttribute, value) + "," + baseDn;
}

PublishSummary publishToLdap(const PublishSettings& settings, store::Database& directory,
                             const std::vector<MappedEntry>& mailboxes, bool dryRun, bool force)
{
    PublishSummary summary;
    auto previous = publicationState(directory, settings.target());
    std::vector<Wanted> wanted;
    std::vector<PublicationItem> items;
    for (const auto& mailbox : mailboxes) {
        Wanted w{mailbox.mailbox.address, "", settings.ldap.mapping.attributesOf(mailbox), {}};
        const auto rdnValue = w.attributes.find(settings.rdnAttribute);
        if (rdnValue == w.attributes.end()) {
            // Left as it is where it was published: neither changed nor removed.
            ++summary.failed;
            summary.failures.push_back(w.address + ": no value for the RDN attribute " + settings.rdnAttribute);
            previous.erase(w.address);
            continue;
        }
        w.rdn = rdnOf(settings.rdnAttribute, rdnValue->second);
        w.state.dn = w.rdn + "," + settings.ldap.baseDn;
        std::vector<std::string> parts{w.state.dn};
        for (const auto& [attribute, value] : w.attributes) {
            parts.push_back(attribute);
            parts.push_back(value);
        }
        w.state.hash = publicationHash(parts);
        items.push_back(PublicationItem{w.address, w.state});
        wanted.push_back(std::move(w));
    }
    const auto plan = planPublication(items, previous);
    summary.unchanged = plan.unchanged;
    if (dryRun) {
        summary.added = plan.added.size();
        summary.changed = plan.changed.size();
        summary.removed = plan.removed.size();
        return summary;
    }
    if (plan.added.empty() && plan.changed.empty() && plan.removed.empty()) return summary;
    const auto share = settings.ldap.maxDeleteShare;
    if (!force && static_cast<double>(plan.removed.size()) > share * static_cast<double>(previous.size()))
        throw PublicationBrakeError("safety brake: this publication would remove " +
                                    std::to_string(plan.removed.size()) + " of the " +
                                    std::to_string(previous.size()) + " mailboxes published to " + settings.ldap.uri +
                                    " (" + settings.ldap.baseDn + ")" +
                                    " (more than " + std::to_string(static_cast<int>(share * 100 + 0.5)) +
                                    "%); nothing was published; run again with --force to accept");

    Publisher publisher(settings, directory, summary);
    publisher.connect();
    try {
        // Removals first: an RDN value freed by a mailbox gone can be taken by a new one.
        for (const auto& [address, before] : plan.removed) publisher.remove(address, before);
        for (const auto index : plan.changed) publisher.change(wanted[index], previous.at(wanted[index].address));
        for (const auto index : plan.added) publisher.add(wanted[index]);
    } catch (const LdapError&) {
        publisher.commit();
        throw;
    }
    publisher.commit();
    return summary;
}

}  // namespace plexus::directory
