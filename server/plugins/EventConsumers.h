// PLACEHOLDER (replaced by the wt-events branch)
#pragma once
#include "events/EventLog.h"
#include "store/CommitQueue.h"
#include "store/ConnectionPool.h"
#include <chrono>
#include <functional>
#include <string>
#include <vector>
namespace plexus::events { struct StoredEvent { std::int64_t id; std::int64_t timeMicros; Event event; }; }
namespace plexus::plugins {
enum class ConsumeOutcome { Done, Temporary, Failed, Permanent };
struct ConsumeResult { ConsumeOutcome outcome = ConsumeOutcome::Done; std::string error; };
struct ConsumerSpec {
    std::string plugin, name;
    std::vector<std::string> typePrefixes;
    bool fromOldest = false;
    int maxAttempts = 10;
    std::function<ConsumeResult(const events::StoredEvent&)> consume;
};
struct ConsumerTiming { std::chrono::milliseconds poll{500}, firstRetry{1000}, maxRetry{60000}; std::size_t batch = 64; };
class EventConsumers {
public:
    EventConsumers(store::ConnectionPool& reads, store::CommitQueue& commits, ConsumerTiming timing = {});
    ~EventConsumers();
    void add(ConsumerSpec spec);
    void start();
    void stop();
    void nudge();
    std::size_t size() const;
};
}
