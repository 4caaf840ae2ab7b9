// plexusd: builds the services from the settings, runs the listeners, and
// handles signals (SIGTERM/SIGINT: stop cleanly; SIGHUP: reload certificates,
// the trust-space whitelist, routes and the directory's LDAP source).
#pragma once

#include "app/Settings.h"

namespace plexus::app {

// Runs until SIGTERM or SIGINT; returns the process exit code.
int runDaemon(const Settings& settings);

}  // namespace plexus::app
