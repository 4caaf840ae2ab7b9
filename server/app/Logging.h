// Process logging: one line per event on stderr (systemd's journal or a
// terminal), with time, level and source.
#pragma once

#include <string>

namespace plexus::app {

// level: Poco level name ("information", "debug", ...).
void setUpLogging(const std::string& level);

}  // namespace plexus::app
