// A TCP listener: accepts connections and runs one session per connection on a
// bounded thread pool. Stopping stops accepting and waits for the sessions,
// which end at their next command boundary.
#pragma once

#include "metrics/Metrics.h"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace plexus::net {

struct ListenerOptions {
    std::string name;      // "mx", "submission", ... for logs and metrics
    std::string address;   // e.g. 127.0.0.1 or 0.0.0.0
    unsigned short port = 0;
    int maxSessions = 500;
};

class Listener {
public:
    using SessionHandler = std::function<void(Poco::Net::StreamSocket&)>;

    Listener(ListenerOptions options, SessionHandler handler);
    ~Listener();
    void start();
    // Stops accepting, ends idle sessions and waits for the others to finish.
    void stop();
    unsigned short port() const;
    bool stopping() const { return stopping_.load(); }
    const std::string& name() const { return options_.name; }

private:
    class Factory;
    friend class Factory;
    void runSession(Poco::Net::StreamSocket& socket);

    ListenerOptions options_;
    SessionHandler handler_;
    metrics::Gauge& activeSessions_;
    metrics::Counter& acceptedSessions_;
    Poco::ThreadPool pool_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
    std::atomic<bool> stopping_{false};
};

}  // namespace plexus::net
