// The durable event log: audit and mail events, appended inside store
// transactions; consumers (audit, plugins) will read it in id order.
#pragma once

#include "store/Sqlite.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::events {

// What happened, to what, by whom, from where. Types are dotted names from a
// fixed vocabulary (auth.login, message.received, message.queued, mailbox.created...).
struct Event {
    std::string type;
    std::string actor;    // account address or national id; never a secret
    std::string client;   // client IP address
    std::string object;   // mailbox, message id, ...
    std::string outcome;  // "success" or a failure reason
    std::string detailJson = "{}";
};

// Event detail as JSON text (Poco escapes it).
std::string detailJson(const Poco::JSON::Object& detail);

class EventLog {
public:
    static void append(store::Database& db, const Event& event);
};

}  // namespace plexus::events
