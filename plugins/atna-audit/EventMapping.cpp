#include "EventMapping.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <string_view>

namespace plexus::atna {

namespace {

// DICOM PS3.16 CID 400-405 and IHE ITI TF-2 codes.
const Code kUserAuthentication{"110114", "DCM", "User Authentication"};
const Code kLogin{"110122", "DCM", "Login"};
const Code kLogout{"110123", "DCM", "Logout"};
const Code kExport{"110106", "DCM", "Export"};
const Code kImport{"110107", "DCM", "Import"};
const Code kQuery{"110112", "DCM", "Query"};
const Code kInstancesAccessed{"110103", "DCM", "DICOM Instances Accessed"};
const Code kSecurityAttributesChanged{"110137", "DCM", "User Security Attributes Changed"};
const Code kPatientRecord{"110110", "DCM", "Patient Record"};
const Code kIti41{"ITI-41", "IHE Transactions", "Provide and Register Document Set-b"};
const Code kPseudonymization{"PSEUDONYMIZATION", "PLEXUS", "Pseudonymization request"};
const Code kSourceRole{"110153", "DCM", "Source Role ID"};
const Code kDestinationRole{"110152", "DCM", "Destination Role ID"};
// Participant object id types: RFC 3881 §5.5.4 where one fits, Plexus's own otherwise.
const Code kPatientNumber{"2", "RFC-3881", "Patient Number"};
const Code kUserIdentifier{"11", "RFC-3881", "User Identifier"};
const Code kMailboxFolder{"MAILBOX", "PLEXUS", "Mailbox folder (address/folder)"};
const Code kMessageId{"MESSAGE-ID", "PLEXUS", "Message-ID (RFC 5322)"};
const Code kSubmissionSet{"urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd", "IHE XDS Metadata", "submission set classificationNode"};

// ParticipantObjectTypeCode and ...Role (RFC 3881 §5.5.1-2).
constexpr int kPerson = 1, kSystemObject = 2;
constexpr int kRolePatient = 1, kRoleReport = 3, kRoleSecurityUser = 11, kRoleDataRepository = 17, kRoleJob = 20;

// Plugins' events: plugin.<name>.<kind>, whatever name the plugin is configured under.
constexpr std::string_view kDocumentPublished = "document_published";
constexpr std::string_view kPseudonymizationRequested = "pseudonymization_requested";
constexpr std::string_view kMessageOpened = "message_opened";

Poco::JSON::Object::Ptr detailOf(const sdk::Event& event)
{
    if (event.detailJson.empty()) return new Poco::JSON::Object;
    try {
        auto parsed = Poco::JSON::Parser().parse(event.detailJson);
        if (auto object = parsed.extract<Poco::JSON::Object::Ptr>()) return object;
    } catch (const std::exception&) {
        // A detail that is not a JSON object is left out; the event is still audited.
    }
    return new Poco::JSON::Object;
}

std::string text(const Poco::JSON::Object& detail, const std::string& key)
{
    if (!detail.has(key) || detail.isNull(key)) return {};
    try {
        return detail.getValue<std::string>(key);
    } catch (const std::exception&) {
        return detail.get(key).toString();
    }
}

std::string pluginEventKind(const std::string& type)
{
    if (!type.starts_with("plugin.")) return {};
    const auto lastDot = type.rfind('.');
    return lastDot > 6 && type.find('.', 7) == lastDot ? type.substr(lastDot + 1) : std::string();
}

bool looksLikeIp(const std::string& address)
{
    return !address.empty() && (address.find(':') != std::string::npos ||
                                std::all_of(address.begin(), address.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }));
}

ParticipantObject mailboxObject(const std::string& mailbox)
{
    return {mailbox, kMailboxFolder, mailbox, kSystemObject, kRoleDataRepository, {}};
}

ParticipantObject messageObject(const std::string& messageId)
{
    return {messageId, kMessageId, messageId, kSystemObject, kRoleReport, {}};
}

ParticipantObject patientObject(const std::string& cx)
{
    return {cx, kPatientNumber, "INS", kPerson, kRolePatient, {}};
}

// "address/folder" for IMAP events, whose object is the folder the actor sees.
std::string actorsFolder(const sdk::Event& event)
{
    if (event.object.find('@') != std::string::npos || event.actor.empty()) return event.object;
    return event.actor + "/" + event.object;
}

class MessageBuilder {
public:
    MessageBuilder(const sdk::Event& event, const AuditSource& source, const EventFacts& facts)
        : event_(event), source_(source), facts_(facts), detail_(detailOf(event))
    {
        message_.time = event.time;
        message_.sourceId = source.id;
        message_.enterpriseSiteId = source.enterpriseSiteId;
        if (event.outcome != "success") {
            message_.outcome = Outcome::MinorFailure;
            message_.outcomeDescription = event.outcome;
            if (const auto reason = text(*detail_, "reason"); !reason.empty()) message_.outcomeDescription += ": " + reason;
        }
    }

    MessageBuilder& event(const Code& id, char action, std::vector<Code> types = {})
    {
        message_.eventId = id;
        message_.action = action;
        message_.eventTypes = std::move(types);
        return *this;
    }

    MessageBuilder& outcomeIfFailed(Outcome outcome)
    {
        if (message_.outcome != Outcome::Success) message_.outcome = outcome;
        return *this;
    }

    // The user (or system) behind the event, from the client's address.
    MessageBuilder& requestor(std::vector<Code> roles = {})
    {
        ActiveParticipant user;
        user.userId = !event_.actor.empty() ? event_.actor : !event_.object.empty() ? event_.object : "unknown";
        user.alternativeUserId = facts_.actorNationalId;
        user.isRequestor = true;
        if (!event_.client.empty() && event_.client != "local") {
            user.networkAccessPointId = event_.client;
            user.networkAccessPointType = NetworkAccessPointType::IpAddress;
        }
        user.roles = std::move(roles);
        message_.participants.push_back(std::move(user));
        return *this;
    }

    MessageBuilder& server(std::vector<Code> roles = {})
    {
        ActiveParticipant server;
        server.userId = source_.id;
        server.isRequestor = false;
        server.networkAccessPointId = source_.hostName;
        server.networkAccessPointType = NetworkAccessPointType::MachineName;
        server.roles = std::move(roles);
        message_.participants.push_back(std::move(server));
        return *this;
    }

    MessageBuilder& remote(const std::string& userId, const std::string& host, std::vector<Code> roles)
    {
        if (userId.empty() && host.empty()) return *this;
        ActiveParticipant peer;
        peer.userId = userId.empty() ? host : userId;
        peer.networkAccessPointId = host;
        peer.networkAccessPointType = looksLikeIp(host) ? NetworkAccessPointType::IpAddress : NetworkAccessPointType::MachineName;
        peer.roles = std::move(roles);
        message_.participants.push_back(std::move(peer));
        return *this;
    }

    MessageBuilder& object(ParticipantObject object)
    {
        if (!object.id.empty()) message_.objects.push_back(std::move(object));
        return *this;
    }

    MessageBuilder& message(const std::string& messageId) { return object(messageObject(messageId)); }
    MessageBuilder& mailbox(const std::string& mailbox) { return object(mailboxObject(mailbox)); }

    MessageBuilder& patients()
    {
        std::vector<std::string> ids = facts_.patientIds;
        const auto named = text(*detail_, "patient_id");  // plugins' events name theirs
        if (!named.empty() && std::find(ids.begin(), ids.end(), named) == ids.end()) ids.push_back(named);
        for (const auto& id : ids) object(patientObject(id));
        return *this;
    }

    MessageBuilder& copies()
    {
        for (const auto& copy : copiesToInspect(event_)) mailbox(copy.mailbox + "/" + copy.folder);
        return *this;
    }

    // Message-IDs an IMAP FETCH listed (detail "message_ids").
    MessageBuilder& listedMessages()
    {
        if (!detail_->has("message_ids")) return *this;
        const auto ids = detail_->getArray("message_ids");
        if (!ids) return *this;
        for (std::size_t i = 0; i < ids->size(); ++i)
            if (const auto id = ids->getElement<std::string>(static_cast<unsigned int>(i)); !id.empty()) message(id);
        return *this;
    }

    MessageBuilder& withDetails(ParticipantObject object, const std::vector<std::string>& keys)
    {
        for (const auto& key : keys)
            if (const auto value = text(*detail_, key); !value.empty()) object.details.emplace_back(key, value);
        return this->object(std::move(object));
    }

    const Poco::JSON::Object& detail() const { return *detail_; }
    AuditMessage take() { return std::move(message_); }

private:
    const sdk::Event& event_;
    const AuditSource& source_;
    const EventFacts& facts_;
    Poco::JSON::Object::Ptr detail_;
    AuditMessage message_;
};

std::optional<AuditMessage> pluginEvent(MessageBuilder& b, const sdk::Event& event)
{
    const auto kind = pluginEventKind(event.type);
    if (kind == kDocumentPublished) {
        // ITI TF-2b 3.41.5.1.1: the Document Source's record of a Provide and Register.
        b.event(kExport, 'R', {kIti41}).requestor().server({kSourceRole});
        b.remote(text(b.detail(), "repository"), text(b.detail(), "repository_host"), {kDestinationRole});
        b.patients();
        return b.object({text(b.detail(), "submission_set_uid"), kSubmissionSet, "submission set", kSystemObject, kRoleJob, {}})
            .take();
    }
    if (kind == kPseudonymizationRequested)
        return b.event(kPatientRecord, 'E', {kPseudonymization}).requestor().server().patients().take();
    if (kind == kMessageOpened) {
        const auto folder = text(b.detail(), "folder");
        b.event(kInstancesAccessed, 'R').requestor().server();
        if (const auto mailbox = text(b.detail(), "mailbox"); !mailbox.empty())
            b.mailbox(folder.empty() ? mailbox : mailbox + "/" + folder);
        return b.message(text(b.detail(), "message_id")).patients().take();
    }
    return std::nullopt;
}

}  // namespace

std::vector<MessageCopy> copiesToInspect(const sdk::Event& event)
{
    if (event.type != "message.received" && event.type != "message.submitted") return {};
    const auto detail = detailOf(event);
    const auto copies = detail->getArray("copies");
    std::vector<MessageCopy> found;
    if (!copies) return found;
    for (std::size_t i = 0; i < copies->size(); ++i) {
        const auto copy = copies->getObject(static_cast<unsigned int>(i));
        if (!copy || !copy->has("uid")) continue;
        const auto uid = copy->getValue<std::int64_t>("uid");
        if (uid <= 0 || uid > 0xFFFFFFFFLL) continue;
        found.push_back({text(*copy, "mailbox"), text(*copy, "folder"), static_cast<std::uint32_t>(uid)});
    }
    return found;
}

std::optional<AuditMessage> auditMessageFor(const sdk::Event& event, const AuditSource& source, const EventFacts& facts)
{
    MessageBuilder b(event, source, facts);
    const std::string& type = event.type;
    const std::string& object = event.object;

    if (type == "auth.login" || type == "auth.logout") {
        b.event(kUserAuthentication, 'E', {type == "auth.login" ? kLogin : kLogout}).requestor().server();
        return b.take();
    }
    if (type == "message.received" || type == "message.taken_over" || type == "message.refused") {
        b.event(kImport, 'C').requestor({kSourceRole}).server({kDestinationRole});
        if (type == "message.refused") return b.object({object, kUserIdentifier, object, kSystemObject, kRoleSecurityUser, {}}).take();
        return b.message(object).copies().patients().take();
    }
    if (type == "message.submitted")
        return b.event(kExport, 'R').requestor({kSourceRole}).server().message(object).copies().patients().take();
    if (type == "message.relayed" || type == "message.deferred" || type == "message.bounced") {
        b.event(kExport, 'R').outcomeIfFailed(type == "message.bounced" ? Outcome::SeriousFailure : Outcome::MinorFailure);
        b.requestor().server({kSourceRole}).remote(text(b.detail(), "recipient"), text(b.detail(), "remote_host"), {kDestinationRole});
        return b.message(object).take();
    }
    if (type == "mailbox.select")
        return b.event(kQuery, 'E').requestor().server().mailbox(actorsFolder(event)).take();
    if (type == "message.read" || type == "admin.message.read") {
        b.event(kInstancesAccessed, 'R').requestor().server();
        if (event.actor.starts_with("plugin:")) {
            const auto folder = text(b.detail(), "folder");
            return b.mailbox(folder.empty() ? object : object + "/" + folder).take();
        }
        return b.withDetails(mailboxObject(type == "message.read" ? actorsFolder(event) : object), {"uids"}).listedMessages().take();
    }
    if (type == "message.appended" || type == "message.copied" || type == "message.moved" || type == "message.expunged" ||
        type == "mailbox.created" || type == "mailbox.deleted" || type == "mailbox.renamed") {
        const char action = type == "message.expunged" || type == "mailbox.deleted"                        ? 'D'
                            : type == "message.moved" || type == "mailbox.renamed"                         ? 'U'
                                                                                                           : 'C';
        b.event(kInstancesAccessed, action).requestor().server();
        return b.withDetails(mailboxObject(actorsFolder(event)), {"uids", "uid", "to", "destination"}).take();
    }
    if (type == "acl.changed")
        return b.event(kSecurityAttributesChanged, 'U').requestor().server()
            .withDetails(mailboxObject(actorsFolder(event)), {"identifier", "rights"}).take();
    if (type == "admin.mailbox.added" || type == "admin.mailbox.removed" || type == "admin.delegate.added" ||
        type == "admin.password.changed") {
        const char action = type == "admin.mailbox.removed" ? 'D' : type == "admin.password.changed" ? 'U' : 'C';
        return b.event(kSecurityAttributesChanged, action).requestor().server()
            .object({object, kUserIdentifier, object, kPerson, kRoleSecurityUser, {}}).take();
    }
    return pluginEvent(b, event);
}

}  // namespace plexus::atna
