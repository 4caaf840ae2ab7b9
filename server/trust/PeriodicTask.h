// A thread that runs a task when it is due: once at start, then at the time
// the task itself names, or sooner when woken (new settings). Stops promptly.
// The scheduled refreshes of the trust space (whitelist, CRLs) run on one each.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace plexus::trust {

class PeriodicTask {
public:
    // Does the work that is due and returns when to be called next.
    using Task = std::function<std::chrono::system_clock::time_point()>;

    explicit PeriodicTask(Task task);
    ~PeriodicTask();  // stops
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    void start();  // no effect when running
    void stop();   // waits for a run in progress to finish
    void wake();   // runs the task again now

private:
    void run();

    Task task_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace plexus::trust
