// Calls into a plugin, guarded: exceptions are caught at the boundary, and
// verdict hooks run on a pool thread that the session waits for only until the
// plugin's deadline. A late call goes on in the background; its result is dropped.
#pragma once

#include <plexus/plugin.h>

#include <Poco/ThreadPool.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace plexus::plugins {

struct CallResult {
    enum class Outcome { Ok, Error, Exception, Timeout, Busy };
    Outcome outcome = Outcome::Ok;
    plexus_status status = PLEXUS_OK;
    std::string error;  // what the plugin said (set_error, exception text) or what the host saw

    bool ok() const { return outcome == Outcome::Ok; }
    std::string describe() const;  // for logs and audit: "timeout after 5000 ms", "error 6 (...)"
};

// What a plugin said with set_error() on this thread, for the result of the current call.
void setPluginError(std::string message);

// On the calling thread: for init, consumers, timers and HTTP routes.
CallResult callInline(const std::function<plexus_status()>& call);

class DeadlineCalls {
public:
    // At most `maxRunning` calls of one plugin at once (late ones included), so
    // that a plugin stuck in its hooks cannot take every thread.
    explicit DeadlineCalls(int maxThreads = 256, int maxRunningPerPlugin = 32);
    DeadlineCalls(const DeadlineCalls&) = delete;
    DeadlineCalls& operator=(const DeadlineCalls&) = delete;

    // `call` must own (or share) everything it touches: it may outlive this
    // call. `running` counts the plugin's calls not yet returned; it must
    // outlive them (the plugin host waits for it to reach 0 before unloading).
    CallResult call(std::atomic<int>& running, std::chrono::milliseconds deadline, std::function<plexus_status()> call);

private:
    Poco::ThreadPool pool_;
    int maxRunningPerPlugin_;
};

}  // namespace plexus::plugins
