#include "plugins/GuardedCall.h"

#include <Poco/Exception.h>
#include <Poco/Runnable.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace plexus::plugins {

namespace {

thread_local std::string pluginError;

// One call on a pool thread. It owns itself until run() ends, since the
// session may have stopped waiting long before.
class PendingCall : public Poco::Runnable {
public:
    PendingCall(std::atomic<int>& running, std::function<plexus_status()> call)
        : running_(running), call_(std::move(call))
    {
    }

    void start(Poco::ThreadPool& pool, std::shared_ptr<PendingCall> self)
    {
        self_ = std::move(self);
        try {
            pool.start(*this);
        } catch (const Poco::NoThreadAvailableException&) {
            self_.reset();
            throw;
        }
    }

    void run() override
    {
        const auto keepAlive = std::move(self_);
        auto result = callInline(call_);
        call_ = nullptr;  // what it captured goes now, on this thread
        {
            std::lock_guard lock(mutex_);
            result_ = std::move(result);
            done_ = true;
        }
        finished_.notify_all();
        running_.fetch_sub(1);
    }

    // The result, or nothing past the deadline.
    std::optional<CallResult> wait(std::chrono::milliseconds deadline)
    {
        std::unique_lock lock(mutex_);
        if (!finished_.wait_for(lock, deadline, [this] { return done_; })) return std::nullopt;
        return result_;
    }

private:
    std::atomic<int>& running_;
    std::function<plexus_status()> call_;
    std::shared_ptr<PendingCall> self_;
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
    CallResult result_;
};

}  // namespace

std::string CallResult::describe() const
{
    switch (outcome) {
    case Outcome::Ok: return "ok";
    case Outcome::Error: return "error " + std::to_string(static_cast<int>(status)) + (error.empty() ? "" : ": " + error);
    case Outcome::Exception: return "exception: " + error;
    case Outcome::Timeout: return "no answer within its deadline (" + error + ")";
    case Outcome::Busy: return "too many calls still running (" + error + ")";
    }
    return error;
}

void setPluginError(std::string message) { pluginError = std::move(message); }

CallResult callInline(const std::function<plexus_status()>& call)
{
    pluginError.clear();
    try {
        const plexus_status status = call();
        if (status == PLEXUS_OK) return {};
        return {CallResult::Outcome::Error, status, std::exchange(pluginError, {})};
    } catch (const std::exception& e) {
        return {CallResult::Outcome::Exception, PLEXUS_ERR_INTERNAL, e.what()};
    } catch (...) {
        return {CallResult::Outcome::Exception, PLEXUS_ERR_INTERNAL, "unknown exception"};
    }
}

DeadlineCalls::DeadlineCalls(int maxThreads, int maxRunningPerPlugin)
    : pool_("plugin-hooks", 2, maxThreads, 60), maxRunningPerPlugin_(maxRunningPerPlugin)
{
}

CallResult DeadlineCalls::call(std::atomic<int>& running, std::chrono::milliseconds deadline,
                               std::function<plexus_status()> call)
{
    if (running.fetch_add(1) >= maxRunningPerPlugin_) {
        running.fetch_sub(1);
        return {CallResult::Outcome::Busy, PLEXUS_ERR_TEMPORARY, std::to_string(maxRunningPerPlugin_) + " at once"};
    }
    auto pending = std::make_shared<PendingCall>(running, std::move(call));
    try {
        pending->start(pool_, pending);
    } catch (const Poco::NoThreadAvailableException&) {
        running.fetch_sub(1);
        return {CallResult::Outcome::Busy, PLEXUS_ERR_TEMPORARY, "no thread available"};
    }
    if (auto result = pending->wait(deadline)) return *result;
    return {CallResult::Outcome::Timeout, PLEXUS_ERR_TEMPORARY, std::to_string(deadline.count()) + " ms"};
}

}  // namespace plexus::plugins
