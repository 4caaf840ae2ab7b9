#include "net/Listener.h"

#include "metrics/Metrics.h"

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

namespace plexus::net {

class Listener::Factory : public Poco::Net::TCPServerConnectionFactory {
public:
    explicit Factory(Listener& listener) : listener_(listener) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override
    {
        // Poco's TCPServer takes ownership of the connection object it asks for.
        class Connection : public Poco::Net::TCPServerConnection {
        public:
            Connection(const Poco::Net::StreamSocket& s, Listener& l) : TCPServerConnection(s), listener_(l) {}
            void run() override { listener_.runSession(socket()); }

        private:
            Listener& listener_;
        };
        return new Connection(socket, listener_);
    }

private:
    Listener& listener_;
};

namespace {
constexpr int sessionStackSize = 256 * 1024;
}

Listener::Listener(ListenerOptions options, SessionHandler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      activeSessions_(metrics::Registry::instance().gauge("plexus_sessions_active", "Open client sessions",
                                                          "listener=\"" + options_.name + "\"")),
      acceptedSessions_(metrics::Registry::instance().counter("plexus_sessions_total", "Sessions accepted",
                                                              "listener=\"" + options_.name + "\"")),
      pool_(options_.name, 2, options_.maxSessions, 60, sessionStackSize)
{
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options_.address, options_.port), 128);
    auto params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(options_.maxSessions);
    params->setMaxQueued(options_.maxSessions);
    server_ = std::make_unique<Poco::Net::TCPServer>(new Factory(*this), pool_, socket, params);
}

Listener::~Listener() { stop(); }

void Listener::start() { server_->start(); }

unsigned short Listener::port() const { return server_->port(); }

void Listener::runSession(Poco::Net::StreamSocket& socket)
{
    if (stopping_) return;
    activeSessions_.add(1);
    acceptedSessions_.add();
    try {
        handler_(socket);
    } catch (const std::exception& e) {
        Poco::Logger::get(options_.name).warning("session ended: %s", std::string(e.what()));
    }
    activeSessions_.add(-1);
}

void Listener::stop()
{
    if (stopping_.exchange(true)) return;
    server_->stop();
    pool_.joinAll();  // sessions see the stop between commands (net::Connection)
}

}  // namespace plexus::net
