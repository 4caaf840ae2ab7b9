// The end of an authenticated session (IMAP, SMTP submission): one auth.logout
// event per session, however it ends. The HTTP API authenticates each request
// and has no session to end.
#pragma once

#include "events/EventLog.h"

#include <exception>
#include <string>

namespace plexus::events {

// How the session ended: the client's LOGOUT or QUIT, the connection closed
// (by the client, or by the server after errors), an idle or session timeout,
// the server stopping.
enum class SessionEnd { Logout, Closed, Timeout, Shutdown };

// How a session ended whose connection failed with `error`.
SessionEnd sessionEndAfter(const std::exception& error, bool serverStopping);

// The auth.logout event of `address` from `client` on `service` (imap, imaps,
// submission, submissions), with {"service":…,"reason":"logout"|"closed"|"timeout"|"shutdown"}.
Event logoutEvent(const std::string& address, const std::string& client, const std::string& service, SessionEnd end);

}  // namespace plexus::events
