// The host-services table, acting on the instance: submitting a message as the
// plugin's technical identity, mailboxes, folders, delegates and ACLs (each
// change audited with the plugin as actor), and the directory.
#include "plugins/HostContext.h"

#include "accounts/AccountStore.h"
#include "events/EventLog.h"
#include "store/FolderStore.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>

namespace plexus::plugins {

namespace {

using accounts::AccountStore;

constexpr std::size_t kMaxSubmissionRecipients = 500;

// Runs a write job durably, with the audit event of the change in the same transaction.
void writeAudited(plexus_host& host, const std::function<void(store::Database&)>& change, const std::string& type,
                  const std::string& object, const std::string& detailJson = "{}")
{
    host.services.commits
        .submit([&](store::Database& db) {
            change(db);
            events::EventLog::append(db, {type, host.actor(), "local", object, "success", detailJson});
        })
        .get();
}

std::string text(const char* value) { return value ? value : ""; }

bool isLocal(const plexus_host& host, const std::string& address)
{
    return host.services.localDomains.count(accounts::domainOf(address)) > 0;
}

// Recipients of a submission, checked as SMTP submission checks them.
plexus_status resolveRecipients(plexus_host* host, const plexus_submission& submission,
                                intake::DeliveryEnvelope& envelope)
{
    if (submission.recipient_count == 0 || submission.recipient_count > kMaxSubmissionRecipients || !submission.recipients)
        return refuse(host, PLEXUS_ERR_INVALID, "submit_message needs 1 to 500 recipients");
    auto db = host->services.reads.acquire();
    const auto whitelist = host->services.whitelist();
    for (std::size_t i = 0; i < submission.recipient_count; ++i) {
        const std::string given = text(submission.recipients[i]);
        if (!accounts::isValidAddress(given))
            return refuse(host, PLEXUS_ERR_INVALID, "submit_message: invalid recipient address " + given);
        const std::string address = accounts::normaliseAddress(given);
        if (isLocal(*host, address)) {
            const auto account = AccountStore::find(*db, address);
            if (!account) return refuse(host, PLEXUS_ERR_NOT_FOUND, "submit_message: no mailbox " + address);
            if (account->usedBytes >= account->quotaBytes)
                return refuse(host, PLEXUS_ERR_TEMPORARY, "submit_message: mailbox " + address + " is full");
            envelope.local.push_back({account->id, account->address});
        } else if (whitelist->containsDomain(accounts::domainOf(address))) {
            envelope.remote.push_back({address, "", ""});
        } else {
            return refuse(host, PLEXUS_ERR_DENIED,
                          "submit_message: " + address + " is not in the MSSanté trust space");
        }
    }
    return PLEXUS_OK;
}

plexus_status submitMessage(plexus_host* host, const plexus_submission* submission, plexus_bytes_sink idSink,
                            void* user)
{
    if (!host || !submission || submission->struct_size < sizeof(plexus_submission) ||
        (submission->content_size && !submission->content))
        return PLEXUS_ERR_INVALID;
    if (!host->may(PLEXUS_CAP_SUBMIT)) return refuse(host, PLEXUS_ERR_DENIED, "submit_message needs capability submit");
    if (!host->settings.submitAs)
        return refuse(host, PLEXUS_ERR_DENIED, "submit_message: no submit_as identity in [plugin." + host->name() + "]");
    try {
        std::optional<accounts::Account> identity;
        {
            auto db = host->services.reads.acquire();
            identity = AccountStore::find(*db, *host->settings.submitAs);
            const std::string sender = text(submission->sender).empty() ? *host->settings.submitAs : text(submission->sender);
            if (!identity) return refuse(host, PLEXUS_ERR_DENIED, "submit_as " + *host->settings.submitAs + " is no mailbox here");
            if (!AccountStore::maySendAs(*db, *identity, sender))
                return refuse(host, PLEXUS_ERR_DENIED, "submit_message: " + identity->address + " may not send as " + sender);
        }
        intake::DeliveryEnvelope envelope;
        envelope.sender = text(submission->sender).empty() ? identity->address : text(submission->sender);
        if (const auto refused = resolveRecipients(host, *submission, envelope)) return refused;

        auto& services = host->services;
        ContentReplacement content(services.mailboxes, services.maxMessageSize, services.maxHeaderSize);
        // RFC 5321 4.4: the trace of where the message entered.
        content.write("Received: by " + services.hostname + " (Plexus plugin " + host->name() + ") with LOCAL; " +
                      Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::RFC1123_FORMAT) + "\r\n");
        content.write(std::string_view(static_cast<const char*>(submission->content), submission->content_size));
        const auto received = content.finish();
        Poco::JSON::Object detail;
        detail.set("service", "plugin");
        detail.set("plugin", host->name());
        intake::DeliveryServices delivery{services.mailboxes, services.commits, services.changes, services.indexer,
                                          services.outboundQueued};
        intake::deliverMessage(delivery, received, envelope, {host->actor(), "local", detail});
        const std::string queueId = intake::queueIdOf(received);
        host->log.information("submitted %s from <%s> for %z recipient(s)", queueId, envelope.sender,
                              envelope.recipientCount());
        if (idSink) idSink(user, queueId.data(), queueId.size());
        return PLEXUS_OK;
    } catch (const MessageTooLarge& e) {
        return refuse(host, PLEXUS_ERR_TOO_LARGE, std::string("submit_message: ") + e.what());
    } catch (const std::invalid_argument& e) {
        return refuse(host, PLEXUS_ERR_INVALID, std::string("submit_message: ") + e.what());
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string("submit_message: ") + e.what());
    }
}

// Mailbox administration: capability, then the change; errors become statuses.
plexus_status administer(plexus_host* host, const char* what, const std::function<plexus_status()>& change)
{
    if (!host) return PLEXUS_ERR_INVALID;
    if (!host->may(PLEXUS_CAP_MAILBOX_ADMIN))
        return refuse(host, PLEXUS_ERR_DENIED, std::string(what) + " needs capability mailbox_admin");
    try {
        return change();
    } catch (const store::FolderError& e) {
        const auto status = e.code() == store::FolderError::Code::AlreadyExists ? PLEXUS_ERR_EXISTS
                            : e.code() == store::FolderError::Code::NonExistent ? PLEXUS_ERR_NOT_FOUND
                                                                                 : PLEXUS_ERR_INVALID;
        return refuse(host, status, std::string(what) + ": " + e.what());
    } catch (const accounts::AccountError& e) {
        return refuse(host, PLEXUS_ERR_INVALID, std::string(what) + ": " + e.what());
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string(what) + ": " + e.what());
    }
}

std::optional<accounts::Account> findAccount(plexus_host& host, const std::string& address)
{
    auto db = host.services.reads.acquire();
    return AccountStore::find(*db, address);
}

plexus_status mailboxCreate(plexus_host* host, const plexus_mailbox_spec* spec)
{
    if (!spec || spec->struct_size < sizeof(plexus_mailbox_spec) || !spec->address || !spec->type)
        return PLEXUS_ERR_INVALID;
    return administer(host, "mailbox_create", [&] {
        accounts::NewAccount account;
        account.address = accounts::normaliseAddress(spec->address);
        if (!isLocal(*host, account.address))
            return refuse(host, PLEXUS_ERR_DENIED, "mailbox_create: " + account.address + " is not in a local domain");
        const auto type = accounts::parseAccountType(spec->type);
        if (!type) return refuse(host, PLEXUS_ERR_INVALID, "mailbox_create: type must be PER, ORG, APP or CAB");
        account.type = *type;
        if (!text(spec->national_id).empty()) account.nationalId = spec->national_id;
        if (!text(spec->structure_id).empty()) account.structureId = spec->structure_id;
        account.quotaBytes = spec->quota_mb ? static_cast<std::int64_t>(spec->quota_mb) << 20
                                            : host->services.defaultQuotaBytes;
        if (findAccount(*host, account.address)) return PLEXUS_ERR_EXISTS;
        writeAudited(*host, [&](store::Database& db) { AccountStore::add(db, account); }, "mailbox.created",
                     account.address);
        return PLEXUS_OK;
    });
}

plexus_status folderCreate(plexus_host* host, const char* mailbox, const char* folder)
{
    if (!mailbox || !folder) return PLEXUS_ERR_INVALID;
    return administer(host, "folder_create", [&] {
        const auto account = findAccount(*host, mailbox);
        if (!account) return PLEXUS_ERR_NOT_FOUND;
        writeAudited(*host, [&](store::Database& db) { store::FolderStore::create(db, account->id, folder); },
                     "mailbox.created", account->address + "/" + folder);
        return PLEXUS_OK;
    });
}

plexus_status delegateAdd(plexus_host* host, const char* org, const char* person)
{
    if (!org || !person) return PLEXUS_ERR_INVALID;
    return administer(host, "delegate_add", [&] {
        if (!findAccount(*host, org) || !findAccount(*host, person)) return PLEXUS_ERR_NOT_FOUND;
        writeAudited(*host, [&](store::Database& db) { AccountStore::addDelegate(db, org, person); },
                     "admin.delegate.added", std::string(org) + " -> " + person);
        return PLEXUS_OK;
    });
}

plexus_status aclSet(plexus_host* host, const char* mailbox, const char* folder, const char* identifier,
                     const char* rights)
{
    if (!mailbox || !folder || !identifier || !rights) return PLEXUS_ERR_INVALID;
    return administer(host, "acl_set", [&] {
        const std::string who = identifier;
        if (who != "anyone" && !accounts::isValidAddress(who))
            return refuse(host, PLEXUS_ERR_INVALID, "acl_set: identifier must be an address or \"anyone\"");
        const auto account = findAccount(*host, mailbox);
        if (!account) return PLEXUS_ERR_NOT_FOUND;
        Poco::JSON::Object detail;
        detail.set("identifier", who);
        detail.set("rights", std::string(rights));
        writeAudited(
            *host,
            [&](store::Database& db) {
                const auto found = store::FolderStore::find(db, account->id, folder);
                if (!found) throw store::FolderError(store::FolderError::Code::NonExistent, "no folder " + std::string(folder));
                store::FolderStore::setAcl(db, found->id, who, rights);
            },
            "acl.changed", account->address + "/" + folder, events::detailJson(detail));
        return PLEXUS_OK;
    });
}

void giveEntry(const DirectoryEntry& entry, plexus_directory_sink sink, void* user)
{
    const plexus_directory_entry given{sizeof(plexus_directory_entry), entry.address.c_str(),
                                       entry.type.c_str(),             entry.nationalId.c_str(),
                                       entry.structureId.c_str(),      entry.displayName.c_str(),
                                       entry.profession.c_str(),       entry.city.c_str(),
                                       entry.source.c_str()};
    sink(user, &given);
}

plexus_status directoryLookup(plexus_host* host, const char* address, plexus_directory_sink sink, void* user)
{
    if (!host || !address || !sink) return PLEXUS_ERR_INVALID;
    if (!host->may(PLEXUS_CAP_DIRECTORY)) return refuse(host, PLEXUS_ERR_DENIED, "directory_lookup needs capability directory");
    try {
        const auto entry = host->services.directory.lookup(address);
        if (!entry) return PLEXUS_ERR_NOT_FOUND;
        giveEntry(*entry, sink, user);
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string("directory_lookup: ") + e.what());
    }
}

plexus_status directorySearch(plexus_host* host, const plexus_directory_query* query, plexus_directory_sink sink,
                              void* user)
{
    if (!host || !query || query->struct_size < sizeof(plexus_directory_query) || !sink) return PLEXUS_ERR_INVALID;
    if (!host->may(PLEXUS_CAP_DIRECTORY)) return refuse(host, PLEXUS_ERR_DENIED, "directory_search needs capability directory");
    try {
        const DirectoryQuery search{text(query->text), text(query->national_id), text(query->profession),
                                    text(query->city), query->limit};
        for (const auto& entry : host->services.directory.search(search)) giveEntry(entry, sink, user);
        return PLEXUS_OK;
    } catch (const std::exception& e) {
        return refuse(host, PLEXUS_ERR_TEMPORARY, std::string("directory_search: ") + e.what());
    }
}

}  // namespace

void fillAdminApi(plexus_host_api& api)
{
    api.submit_message = submitMessage;
    api.mailbox_create = mailboxCreate;
    api.folder_create = folderCreate;
    api.delegate_add = delegateAdd;
    api.acl_set = aclSet;
    api.directory_lookup = directoryLookup;
    api.directory_search = directorySearch;
}

}  // namespace plexus::plugins
