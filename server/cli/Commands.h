// plexusctl commands, grouped by what they manage.
#pragma once

#include "app/Settings.h"
#include "cli/Arguments.h"

namespace plexus::cli {

// init --dir DIR --domain DOMAIN [--listen ADDR] [--port-offset N]
int runInit(const Arguments& args);
// mailbox add|list|remove|show, delegate add, passwd, cert issue
int runMailboxCommand(const app::Settings& settings, const Arguments& args);
// message cat ADDRESS UID [--folder NAME]: the stored message, decrypted (audited).
int runMessageCommand(const app::Settings& settings, const Arguments& args);
int runDelegateCommand(const app::Settings& settings, const Arguments& args);
int runPasswd(const app::Settings& settings, const Arguments& args);
int runCertCommand(const app::Settings& settings, const Arguments& args);

}  // namespace plexus::cli
