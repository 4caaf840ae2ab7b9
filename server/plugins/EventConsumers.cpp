#include "plugins/EventConsumers.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <stdexcept>

namespace plexus::plugins {

namespace {

Poco::Logger& log()
{
    return Poco::Logger::get("plugins.events");
}

// The delays between attempts: firstRetry, doubling up to maxRetry.
class Backoff {
public:
    explicit Backoff(const ConsumerTiming& timing) : next_(timing.firstRetry), max_(timing.maxRetry) {}
    std::chrono::milliseconds next()
    {
        const auto delay = next_;
        next_ = std::min(next_ * 2, max_);
        return delay;
    }

private:
    std::chrono::milliseconds next_;
    std::chrono::milliseconds max_;
};

ConsumeResult consumeCatching(const ConsumerSpec& spec, const events::StoredEvent& stored)
{
    try {
        return spec.consume(stored);
    } catch (const std::exception& e) {
        return {ConsumeOutcome::Failed, e.what()};
    } catch (...) {
        return {ConsumeOutcome::Failed, "an exception of unknown type"};
    }
}

std::int64_t ageSeconds(const events::StoredEvent& stored)
{
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    return std::max<std::int64_t>(0, (now - stored.timeMicros) / 1'000'000);
}

std::string metricLabels(const ConsumerSpec& spec)
{
    return "plugin=\"" + spec.plugin + "\",consumer=\"" + spec.name + "\"";
}

void writeCursor(store::Database& db, const std::string& plugin, const std::string& consumer, std::int64_t position)
{
    db.prepare("INSERT INTO plugin_cursors (plugin, consumer, last_event_id) VALUES (?, ?, ?) "
               "ON CONFLICT (plugin, consumer) DO UPDATE SET last_event_id = excluded.last_event_id")
        .bind(1, plugin)
        .bind(2, consumer)
        .bind(3, position)
        .run();
}

}  // namespace

struct EventConsumers::Consumer {
    static constexpr std::int64_t kNoCursor = -1;  // savedPosition of a consumer without a plugin_cursors row

    explicit Consumer(ConsumerSpec s)
        : spec(std::move(s)),
          backlog(metrics::Registry::instance().gauge("plexus_plugin_event_backlog",
                                                      "Events logged after a plugin event consumer's position",
                                                      metricLabels(spec))),
          backlogAge(metrics::Registry::instance().gauge(
              "plexus_plugin_event_backlog_age_seconds",
              "Age of the oldest event a plugin consumer has yet to process; 0 when it is caught up",
              metricLabels(spec))),
          consumed(metrics::Registry::instance().counter("plexus_plugin_events_consumed_total",
                                                         "Events a plugin consumer processed", metricLabels(spec))),
          poisoned(metrics::Registry::instance().counter("plexus_plugin_events_poisoned_total",
                                                         "Events a plugin consumer failed on and set aside",
                                                         metricLabels(spec)))
    {
    }

    bool wants(const events::Event& event) const
    {
        return spec.typePrefixes.empty() ||
               std::any_of(spec.typePrefixes.begin(), spec.typePrefixes.end(),
                           [&](const std::string& prefix) { return event.type.starts_with(prefix); });
    }

    ConsumerSpec spec;
    metrics::Gauge& backlog;
    metrics::Gauge& backlogAge;
    metrics::Counter& consumed;
    metrics::Counter& poisoned;
    // Owned by the consumer's thread while it runs.
    std::int64_t position = 0;  // the last event dealt with: processed, skipped or set aside
    std::int64_t savedPosition = kNoCursor;
};

EventConsumers::EventConsumers(store::ConnectionPool& reads, store::CommitQueue& commits, ConsumerTiming timing)
    : reads_(reads), commits_(commits), timing_(timing)
{
}

EventConsumers::~EventConsumers()
{
    stop();
}

void EventConsumers::add(ConsumerSpec spec)
{
    if (!threads_.empty()) throw std::logic_error("event consumers are added before start()");
    const auto where = "plugin " + spec.plugin + ", event consumer " + spec.name;
    if (!spec.consume) throw std::invalid_argument(where + ": no consume function");
    if (spec.maxAttempts < 1) throw std::invalid_argument(where + ": maxAttempts must be at least 1");
    // Two threads sharing one position would break the order and the position itself.
    if (std::any_of(consumers_.begin(), consumers_.end(), [&](const auto& c) {
            return c->spec.plugin == spec.plugin && c->spec.name == spec.name;
        })) {
        throw std::invalid_argument(where + ": registered twice");
    }
    consumers_.push_back(std::make_unique<Consumer>(std::move(spec)));
}

void EventConsumers::onPoison(PoisonHandler handler)
{
    onPoison_ = std::move(handler);
}

void EventConsumers::start()
{
    if (!threads_.empty()) throw std::logic_error("event consumers started twice");
    loadPositions();
    for (auto& consumer : consumers_) {
        threads_.emplace_back([this, &c = *consumer](std::stop_token stop) { run(c, stop); });
    }
}

void EventConsumers::stop()
{
    for (auto& thread : threads_) thread.request_stop();
    threads_.clear();  // joins
}

void EventConsumers::nudge()
{
    {
        std::lock_guard lock(mutex_);
        ++nudges_;
    }
    wake_.notify_all();
}

void EventConsumers::loadPositions()
{
    {
        auto db = reads_.acquire();
        const auto last = events::EventLog::lastId(*db);
        for (auto& c : consumers_) {
            auto stmt = db->prepare("SELECT last_event_id FROM plugin_cursors WHERE plugin = ? AND consumer = ?");
            stmt.bind(1, c->spec.plugin).bind(2, c->spec.name);
            if (stmt.step()) {
                c->position = c->savedPosition = stmt.int64(0);
            } else {
                c->position = c->spec.fromOldest ? 0 : last;
                c->savedPosition = Consumer::kNoCursor;
            }
        }
    }
    // Written now: otherwise a restart before the first batch would take a
    // later "now" and skip the events logged in between.
    for (auto& c : consumers_) savePosition(*c);
}

void EventConsumers::run(Consumer& consumer, const std::stop_token& stop)
{
    Backoff storeBackoff(timing_);  // for the store's own failures, not the plugin's
    while (!stop.stop_requested()) {
        try {
            // Taken before reading, so that a nudge for an event committed after the read still wakes us.
            const auto nudgesSeen = nudgesSoFar();
            const auto batch = readBatch(consumer);
            if (batch.empty()) {
                consumer.backlogAge.set(0);
                savePosition(consumer);  // going idle
                waitForEvents(stop, nudgesSeen);
            } else {
                process(consumer, batch, stop);
                savePosition(consumer);
            }
            storeBackoff = Backoff(timing_);
        } catch (const std::exception& e) {
            // Events dealt with stay so in memory; they will be saved with the next position.
            log().error("plugin %s, event consumer %s: %s", consumer.spec.plugin, consumer.spec.name,
                        std::string(e.what()));
            sleep(stop, storeBackoff.next());
        }
    }
    try {
        savePosition(consumer);
    } catch (const std::exception& e) {
        log().error("plugin %s, event consumer %s: position not saved at stop (events after %Ld will come again): %s",
                    consumer.spec.plugin, consumer.spec.name, consumer.savedPosition, std::string(e.what()));
    }
}

std::vector<events::StoredEvent> EventConsumers::readBatch(Consumer& consumer)
{
    auto db = reads_.acquire();
    auto batch = events::EventLog::readAfter(*db, consumer.position, timing_.batch);
    consumer.backlog.set(batch.empty() ? 0
                                       : std::max<std::int64_t>(0, events::EventLog::lastId(*db) - consumer.position));
    return batch;
}

// While one event is retried, the events logged behind it join the backlog
// (a repository that is down: the gauge grows with the traffic).
void EventConsumers::refreshBacklog(Consumer& consumer)
{
    auto db = reads_.acquire();
    consumer.backlog.set(std::max<std::int64_t>(0, events::EventLog::lastId(*db) - consumer.position));
}

void EventConsumers::process(Consumer& consumer, const std::vector<events::StoredEvent>& batch,
                             const std::stop_token& stop)
{
    for (const auto& stored : batch) {
        if (stop.stop_requested()) return;
        if (consumer.wants(stored.event) && !deliver(consumer, stored, stop)) return;
        consumer.position = stored.id;
    }
}

// True once the event is processed or set aside; false when stopped before.
bool EventConsumers::deliver(Consumer& consumer, const events::StoredEvent& stored, const std::stop_token& stop)
{
    Backoff backoff(timing_);
    int attempts = 0;
    int failures = 0;  // Failed results; Temporary ones never set an event aside
    for (;;) {
        consumer.backlogAge.set(ageSeconds(stored));
        auto result = consumeCatching(consumer.spec, stored);
        ++attempts;
        if (result.outcome == ConsumeOutcome::Done) {
            consumer.consumed.add();
            return true;
        }
        if (result.error.empty()) result.error = "no reason given";
        if (result.outcome == ConsumeOutcome::Permanent ||
            (result.outcome == ConsumeOutcome::Failed && ++failures >= consumer.spec.maxAttempts)) {
            setAside(consumer, stored, attempts, result.error);
            return true;
        }
        const auto delay = backoff.next();
        log().warning("plugin %s, event consumer %s: event %Ld (%s) attempt %d %s, again in %Ld ms: %s",
                      consumer.spec.plugin, consumer.spec.name, stored.id, stored.event.type, attempts,
                      std::string(result.outcome == ConsumeOutcome::Temporary ? "failed temporarily" : "failed"),
                      static_cast<std::int64_t>(delay.count()), result.error);
        // The wait may be long: what this batch did before this event is saved first.
        savePosition(consumer);
        refreshBacklog(consumer);
        if (!sleep(stop, delay)) return false;
    }
}

void EventConsumers::setAside(Consumer& consumer, const events::StoredEvent& stored, int attempts,
                              const std::string& error)
{
    const auto setAsideAt = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    // One job: the poison row and the move past it are durable together.
    commits_
        .submit([plugin = consumer.spec.plugin, name = consumer.spec.name, id = stored.id, attempts, error,
                 setAsideAt](store::Database& db) {
            db.prepare("INSERT OR REPLACE INTO plugin_poison "
                       "(plugin, consumer, event_id, attempts, error, set_aside_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(1, plugin)
                .bind(2, name)
                .bind(3, id)
                .bind(4, static_cast<std::int64_t>(attempts))
                .bind(5, error)
                .bind(6, static_cast<std::int64_t>(setAsideAt))
                .run();
            writeCursor(db, plugin, name, id);
        })
        .get();
    consumer.position = consumer.savedPosition = stored.id;
    consumer.poisoned.add();
    log().warning("plugin %s, event consumer %s: event %Ld (%s) set aside as poison after %d attempts: %s",
                consumer.spec.plugin, consumer.spec.name, stored.id, stored.event.type, attempts, error);
    if (onPoison_) onPoison_(consumer.spec.plugin, consumer.spec.name, stored.id, error);
}

void EventConsumers::savePosition(Consumer& consumer)
{
    if (consumer.position == consumer.savedPosition) return;
    commits_
        .submit([plugin = consumer.spec.plugin, name = consumer.spec.name,
                 position = consumer.position](store::Database& db) { writeCursor(db, plugin, name, position); })
        .get();
    consumer.savedPosition = consumer.position;
}

std::uint64_t EventConsumers::nudgesSoFar()
{
    std::lock_guard lock(mutex_);
    return nudges_;
}

void EventConsumers::waitForEvents(const std::stop_token& stop, std::uint64_t nudgesSeen)
{
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, timing_.poll, [&] { return nudges_ != nudgesSeen; });
}

bool EventConsumers::sleep(const std::stop_token& stop, std::chrono::milliseconds delay)
{
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, delay, [] { return false; });  // only stop ends it early
    return !stop.stop_requested();
}

}  // namespace plexus::plugins
