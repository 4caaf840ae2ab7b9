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

std::vector<StoredEvent> EventLog::readAfter(store::Database& db, std::int64_t afterId, std::size_t limit)
{
    auto stmt = db.prepare("SELECT id, time, type, actor, client, object, outcome, detail FROM events "
                           "WHERE id > ? ORDER BY id LIMIT ?");
    stmt.bind(1, afterId).bind(2, static_cast<std::int64_t>(limit));
    std::vector<StoredEvent> events;
    while (stmt.step()) {
        // actor, client, object and detail are nullable columns: NULL reads as "" ("{}" for detail).
        events.push_back({stmt.int64(0), stmt.int64(1),
                          Event{stmt.text(2), stmt.text(3), stmt.text(4), stmt.text(5), stmt.text(6),
                                stmt.isNull(7) ? "{}" : stmt.text(7)}});
    }
    return events;
}

std::int64_t EventLog::lastId(store::Database& db)
{
    auto stmt = db.prepare("SELECT coalesce(max(id), 0) FROM events");
    stmt.step();
    return stmt.int64(0);
}

}  // namespace plexus::events
