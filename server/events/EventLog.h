// The durable event log: audit and mail events, appended inside store
// transactions; consumers (audit, plugins) read it in id order.
#pragma once

#include "store/Sqlite.h"

#include <Poco/JSON/Object.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace plexus::events {

// What happened, to what, by whom, from where. Types are dotted names from a
// fixed vocabulary (auth.login, auth.logout, message.received, mailbox.created...; see README.md).
struct Event {
    std::string type;
    std::string actor;    // account address or national id; never a secret
    std::string client;   // client IP address
    std::string object;   // mailbox, message id, ...
    std::string outcome;  // "success" or a failure reason
    std::string detailJson = "{}";
};

// An event as logged: its id orders the log and never repeats.
struct StoredEvent {
    std::int64_t id = 0;
    std::int64_t timeMicros = 0;  // since the epoch
    Event event;
};

// Event detail as JSON text (Poco escapes it).
std::string detailJson(const Poco::JSON::Object& detail);

class EventLog {
public:
    static void append(store::Database& db, const Event& event);

    // Up to `limit` events with an id above `afterId`, in id order. Ids become
    // visible in order (one writer at a time), so a reader that resumes after
    // the last id it saw misses none.
    static std::vector<StoredEvent> readAfter(store::Database& db, std::int64_t afterId, std::size_t limit);
    // The highest id logged; 0 when the log is empty.
    static std::int64_t lastId(store::Database& db);
};

}  // namespace plexus::events
