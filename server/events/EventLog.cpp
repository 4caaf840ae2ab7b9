#include "events/EventLog.h"

#include <chrono>
#include <sstream>

namespace plexus::events {

std::string detailJson(const Poco::JSON::Object& detail)
{
    std::ostringstream out;
    detail.stringify(out);
    return out.str();
}

void EventLog::append(store::Database& db, const Event& event)
{
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    db.prepare("INSERT INTO events (time, type, actor, client, object, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, static_cast<std::int64_t>(now))
        .bind(2, event.type)
        .bind(3, event.actor)
        .bind(4, event.client)
        .bind(5, event.object)
        .bind(6, event.outcome)
        .bind(7, event.detailJson)
        .run();
}

}  // namespace plexus::events
