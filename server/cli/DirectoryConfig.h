// The LDAP sections of plexus.conf as the directory commands edit them:
// [directory.ldap] (the sync's source) and [directory.publish] (where this
// instance's mailboxes are published) share the connection and mapping options.
#pragma once

#include "app/Settings.h"
#include "cli/Arguments.h"
#include "cli/ConfigFile.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace plexus::cli {

using Ini = Poco::AutoPtr<Poco::Util::IniFileConfiguration>;
Ini readIni(const std::string& text);

// The configuration file with [SECTION] rewritten: keys not given are kept;
// --uri, --base, --bind-dn, --timeout, --password-file, --cert, --key, --ca
// (made absolute), --sasl-external (replacing a bind DN, and the other way
// round), --map FIELD=ATTRIBUTE, then `options` (--option -> key) and `extra`
// keys. Not saved: the caller checks the result first.
ConfigFile rewriteLdapSection(const app::Settings& settings, const Arguments& args, const std::string& section,
                              const std::vector<std::pair<const char*, const char*>>& options,
                              const std::map<std::string, std::string>& extra);

// directory configure-publish ... | publish [--ldap] [--export FILE] [--dry-run]
int runDirectoryPublishCommand(const app::Settings& settings, const Arguments& args);

}  // namespace plexus::cli
