#include "intake/MessageDelivery.h"

#include <Poco/JSON/Array.h>
#include <Poco/Timestamp.h>

#include <map>
#include <sstream>

namespace plexus::intake {

namespace {

std::string domainOf(const std::string& address) { return address.substr(address.rfind('@') + 1); }

std::vector<store::OutboundEntry> outboundByDomain(const DeliveryEnvelope& envelope)
{
    std::map<std::string, Poco::JSON::Array> byDomain;
    for (const auto& recipient : envelope.remote) {
        Poco::JSON::Object entry;
        entry.set("address", recipient.address);
        if (!recipient.notify.empty()) entry.set("notify", recipient.notify);
        if (!recipient.orcpt.empty()) entry.set("orcpt", recipient.orcpt);
        byDomain[domainOf(recipient.address)].add(entry);
    }
    std::vector<store::OutboundEntry> entries;
    for (const auto& [domain, recipients] : byDomain) {
        std::ostringstream json;
        recipients.stringify(json);
        entries.push_back({envelope.sender, domain, json.str(),
                           envelope.envid.empty() ? std::nullopt : std::optional(envelope.envid),
                           envelope.ret.empty() ? std::nullopt : std::optional(envelope.ret)});
    }
    return entries;
}

}  // namespace

std::string queueIdOf(const std::string& blobPath) { return blobPath.substr(3, 12); }

std::string queueIdOf(const MessageReceiver::Received& received) { return queueIdOf(received.blobPath); }

void deliverMessage(DeliveryServices& services, const MessageReceiver::Received& received,
                    const DeliveryEnvelope& envelope, DeliveryOrigin origin)
{
    store::Delivery delivery;
    delivery.blobPath = received.blobPath;
    delivery.size = received.size;
    delivery.structureJson = received.structure.toJson();
    delivery.internalDate = Poco::Timestamp().epochTime();
    std::map<std::int64_t, std::string> addressOf;
    for (const auto& recipient : envelope.local) {
        delivery.accountIds.push_back(recipient.accountId);
        addressOf[recipient.accountId] = recipient.address;
    }
    delivery.outbound = outboundByDomain(envelope);

    auto& detail = origin.detail;
    detail.set("queue_id", queueIdOf(received));
    detail.set("size", received.size);
    detail.set("sender", envelope.sender);
    Poco::JSON::Array recipients;
    for (const auto& recipient : envelope.local) recipients.add(recipient.address);
    for (const auto& recipient : envelope.remote) recipients.add(recipient.address);
    detail.set("recipients", recipients);
    std::vector<store::DeliveredCopy> copies;
    try {
        services.commits
            .submit(
                [&](store::Database& db) {
                    copies = services.mailboxes.recordDelivery(db, delivery);
                    // Where each copy went, so that event consumers can open it.
                    Poco::JSON::Array stored;
                    for (const auto& copy : copies) {
                        Poco::JSON::Object entry;
                        entry.set("mailbox", addressOf[copy.accountId]);
                        entry.set("folder", "INBOX");
                        entry.set("uid", copy.uid);
                        stored.add(entry);
                    }
                    detail.set("copies", stored);
                    events::EventLog::append(
                        db, {delivery.outbound.empty() ? "message.received" : "message.submitted", origin.actor,
                             origin.client, received.structure.envelope.messageId, "success",
                             events::detailJson(detail)});
                },
                {received.blobDirectory})
            .get();
    } catch (...) {
        services.mailboxes.unlinkBlobs({received.blobPath});
        throw;
    }
    for (const auto& copy : copies) {
        services.changes.notify(copy.mailboxId, static_cast<std::uint32_t>(copy.uid));
        services.indexer.schedule(copy.mailboxId);
    }
    if (!envelope.remote.empty() && services.outboundQueued) services.outboundQueued();
}

}  // namespace plexus::intake
