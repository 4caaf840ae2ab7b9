// The ATNA audit plugin: every audited Plexus event becomes an IHE ATNA audit
// message, sent by each configured transport from its own event consumer (its
// own position in the event log), so that a repository that is down delays
// only itself and loses nothing.
#include "AuditMessage.h"
#include "AuditTransport.h"
#include "BacklogWatch.h"
#include "EventMapping.h"
#include "FileTransport.h"
#include "SyslogTransports.h"
#include "XdmPatients.h"
#include "XercesSession.h"

#include <plexus/plugin.hpp>

#include <Poco/Environment.h>
#include <Poco/JSON/Object.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace plexus::atna {

namespace {

using sdk::Event;
using sdk::EventResult;

constexpr std::size_t kMaxXdmBytes = 64 * 1024 * 1024;  // an IHE_XDM.ZIP attachment, decoded
constexpr std::size_t kRememberedEvents = 256;  // patients found, shared by the transports' consumers

const std::vector<std::string> kAuditedPrefixes{"auth.", "message.", "mailbox.", "acl.", "admin.", "plugin."};

// The attachment an XDM package travels in (IHE ITI TF-1 16.2.2: IHE_XDM.ZIP).
bool isXdmZip(const sdk::PartInfo& part)
{
    return !part.isMultipart && Poco::icompare(part.filename, std::string("IHE_XDM.ZIP")) == 0;
}

struct Channel {
    std::unique_ptr<AuditTransport> transport;
    std::unique_ptr<BacklogWatch> watch;
};

}  // namespace

class AtnaAuditPlugin : public sdk::Plugin {
public:
    explicit AtnaAuditPlugin(sdk::Host& host) : Plugin(host)
    {
        source_.hostName = Poco::Environment::nodeName();
        source_.id = host.config("audit_source_id").value_or(source_.hostName);
        source_.enterpriseSiteId = host.config("enterprise_site_id").value_or("");
        const auto alertAfter = std::chrono::seconds(number("alert_after_seconds", 300));
        for (const auto& name : listed(host.config("transports").value_or("file"))) {
            channels_.push_back({makeTransport(name), std::make_unique<BacklogWatch>(alertAfter)});
        }
        if (channels_.empty()) throw sdk::Error(PLEXUS_ERR_INVALID, "transports: no transport configured");
        for (auto& channel : channels_) {
            Channel* c = &channel;
            consumeEvents(c->transport->name(), kAuditedPrefixes, sdk::EventStart::fromOldest,
                          [this, c](const Event& event) { return deliver(*c, event); });
        }
        every(std::chrono::milliseconds(number("check_interval_ms", 1000)), [this] { checkBacklogs(); });
        host.info("ATNA audit source " + source_.id + ", transports " + host.config("transports").value_or("file"));
    }

private:
    std::int64_t number(const std::string& key, std::int64_t fallback) const
    {
        const auto value = host().config(key);
        if (!value) return fallback;
        std::int64_t parsed = 0;
        if (!Poco::NumberParser::tryParse64(Poco::trim(*value), parsed) || parsed <= 0)
            throw sdk::Error(PLEXUS_ERR_INVALID, key + " must be a positive number, not \"" + *value + "\"");
        return parsed;
    }

    static std::vector<std::string> listed(const std::string& names)
    {
        const Poco::StringTokenizer tokens(names, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
        return {tokens.begin(), tokens.end()};
    }

    std::string required(const std::string& key) const
    {
        auto value = host().config(key);
        if (!value || Poco::trim(*value).empty()) throw sdk::Error(PLEXUS_ERR_INVALID, key + " is required");
        return Poco::trim(*value);
    }

    std::unique_ptr<AuditTransport> makeTransport(const std::string& name) const
    {
        for (const auto& channel : channels_)
            if (channel.transport->name() == name) throw sdk::Error(PLEXUS_ERR_INVALID, "transports: " + name + " twice");
        if (name == "file") return std::make_unique<FileTransport>(required("file_path"));
        if (name == "tls" || name == "udp") {
            try {
                return makeSyslogTransport(name, [this](const std::string& key) { return host().config(key); });
            } catch (const std::exception& e) {
                throw sdk::Error(PLEXUS_ERR_INVALID, "transport " + name + ": " + e.what());
            }
        }
        throw sdk::Error(PLEXUS_ERR_INVALID, "transports: unknown transport \"" + name + "\" (known: file, tls, udp)");
    }

    EventResult deliver(Channel& channel, const Event& event)
    {
        channel.watch->working(event.time);
        std::optional<AuditMessage> message;
        try {
            message = auditMessageFor(event, source_, factsOf(event));
        } catch (const sdk::Error& e) {
            // The directory or the message store answering late: the same event again.
            return EventResult::retryLater(e.what());
        }
        if (!message) {
            channel.watch->sent();
            return EventResult::done();
        }
        AuditRecord record{toXml(*message), event.id, event.time, source_.id + ":" + std::to_string(event.id), source_.id,
                           static_cast<int>(message->outcome)};
        try {
            channel.transport->send(record);
            channel.transport->flush();
        } catch (const TransportError& e) {
            return EventResult::retryLater(e.what());
        }
        channel.watch->sent();
        return EventResult::done();
    }

    EventFacts factsOf(const Event& event)
    {
        EventFacts facts;
        facts.actorNationalId = nationalIdOf(event.actor);
        if (const auto copies = copiesToInspect(event); !copies.empty()) facts.patientIds = patientsOf(event.id, copies.front());
        return facts;
    }

    // The RPPS of a health professional's mailbox, from the directory.
    std::string nationalIdOf(const std::string& actor)
    {
        if (actor.find('@') == std::string::npos) return {};
        {
            std::lock_guard lock(mutex_);
            if (const auto known = nationalIds_.find(actor); known != nationalIds_.end()) return known->second;
        }
        const auto entry = host().directoryLookup(actor);
        std::string id = entry && entry->type == "PER" ? entry->nationalId : std::string();
        std::lock_guard lock(mutex_);
        if (nationalIds_.size() >= 4096) nationalIds_.clear();
        return nationalIds_.emplace(actor, id).first->second;
    }

    // The INS in the message's IHE_XDM.ZIP, opened once for all the transports.
    std::vector<std::string> patientsOf(std::int64_t eventId, const MessageCopy& copy)
    {
        {
            std::lock_guard lock(mutex_);
            if (const auto known = patients_.find(eventId); known != patients_.end()) return known->second;
        }
        std::vector<std::string> ids;
        try {
            const auto message = host().openMessage(copy.mailbox, copy.folder, copy.uid);
            for (const auto& part : message.parts()) {
                if (!isXdmZip(part)) continue;
                for (auto& id : insInXdmZip(message.read(part.index, sdk::ReadMode::decoded).readAll(kMaxXdmBytes)))
                    ids.push_back(std::move(id));
            }
        } catch (const sdk::Error& e) {
            // Expunged since, or too large: the message is audited without its patient.
            if (e.status() != PLEXUS_ERR_NOT_FOUND && e.status() != PLEXUS_ERR_TOO_LARGE) throw;
            host().warning("event " + std::to_string(eventId) + ": no patient read from the message: " + e.what());
        } catch (const XdmError& e) {
            host().warning("event " + std::to_string(eventId) + ": IHE_XDM.ZIP unreadable: " + e.what());
        }
        std::lock_guard lock(mutex_);
        if (patients_.size() >= kRememberedEvents) patients_.erase(patients_.begin());
        return patients_.emplace(eventId, std::move(ids)).first->second;
    }

    // Per transport: the age of its oldest unsent event as a gauge, and an
    // alert (log, audit event, gauge) while it is older than alert_after_seconds.
    void checkBacklogs()
    {
        for (auto& channel : channels_) {
            const auto name = channel.transport->name();
            const auto state = channel.watch->check(BacklogWatch::Clock::now());
            if (state.changed) announce(name, state);
            host().metricSet(name + "_oldest_unsent_age_seconds", "Age of the oldest audit event this transport has not sent",
                             static_cast<double>(state.age.count()));
            host().metricSet(name + "_backlog_alert", "1 while this transport's oldest unsent audit event is too old",
                             state.alerting ? 1 : 0);
        }
    }

    // The alert's start or end: logged and audited before the gauge says so.
    void announce(const std::string& name, const BacklogWatch::State& state)
    {
        Poco::JSON::Object detail;
        detail.set("transport", name);
        detail.set("age_seconds", static_cast<std::int64_t>(state.age.count()));
        std::ostringstream json;
        detail.stringify(json);
        if (state.alerting) {
            host().warning("audit transport " + name + ": its oldest unsent event is " + std::to_string(state.age.count()) +
                           " s old");
            host().audit({"backlog_alert", name, "failure", json.str(), "", ""});
        } else {
            host().info("audit transport " + name + " caught up");
            host().audit({"backlog_recovered", name, "success", json.str(), "", ""});
        }
    }

    XercesSession xerces_;
    AuditSource source_;
    std::vector<Channel> channels_;
    std::mutex mutex_;
    std::map<std::string, std::string> nationalIds_;
    std::map<std::int64_t, std::vector<std::string>> patients_;
};

}  // namespace plexus::atna

PLEXUS_PLUGIN(plexus::atna::AtnaAuditPlugin, "atna-audit", "1.0.0",
              "IHE ATNA audit messages of Plexus's events, to a file and syslog repositories",
              PLEXUS_CAP_EVENTS | PLEXUS_CAP_TIMERS | PLEXUS_CAP_MESSAGE_READ | PLEXUS_CAP_DIRECTORY)
