#include "events/SessionEnd.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>

namespace plexus::events {

namespace {

const char* reasonName(SessionEnd end)
{
    switch (end) {
    case SessionEnd::Logout: return "logout";
    case SessionEnd::Closed: return "closed";
    case SessionEnd::Timeout: return "timeout";
    case SessionEnd::Shutdown: return "shutdown";
    }
    return "closed";
}

}  // namespace

SessionEnd sessionEndAfter(const std::exception& error, bool serverStopping)
{
    // A stopping server cuts a client stalled mid-command short with a timeout too.
    if (serverStopping) return SessionEnd::Shutdown;
    return dynamic_cast<const Poco::TimeoutException*>(&error) ? SessionEnd::Timeout : SessionEnd::Closed;
}

Event logoutEvent(const std::string& address, const std::string& client, const std::string& service, SessionEnd end)
{
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    detail.set("service", service);
    detail.set("reason", reasonName(end));
    return {"auth.logout", address, client, address, "success", detailJson(detail)};
}

}  // namespace plexus::events
