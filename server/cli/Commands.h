// plexusctl commands, grouped by what they manage.
#pragma once

#include "app/Settings.h"
#include "cli/Arguments.h"
#include "store/Sqlite.h"

#include <string>

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
// plugin add PATH.so [--name NAME] | remove NAME | show NAME. add and remove
// edit the configuration file alone, so that they work on one plexusd refuses.
int runPluginCommand(const std::string& configPath, const Arguments& args);
// plugins: the enabled plugins, in load order, and what the running plexusd made of them.
int runPluginList(const app::Settings& settings, const Arguments& args);
// queue list | show ID | retry ID|--all | delete ID: the outbound queue (changes audited).
int runQueueCommand(const app::Settings& settings, const Arguments& args);

// directory configure --uri URI --base DN [--filter F] [--bind-dn DN --password-file F | --sasl-external
//   --cert F --key F] [--ca F] [--map field=attribute ...] | sync [--full] [--force]: the LDAP source;
//   configure-publish ... | publish [--ldap] [--export FILE] [--dry-run]: publication of the local mailboxes.
int runDirectoryLdapCommand(const app::Settings& settings, const Arguments& args);
// [directory] database, by default DATA_DIR/directory.db.
std::string directoryDatabasePath(const app::Settings& settings);

// whitelist show | check DOMAIN | refresh [--force]
//   | source FILE_OR_URL|none [--checksum FILE_OR_URL | --no-checksum] [--ca FILE]
int runWhitelistCommand(const app::Settings& settings, const Arguments& args);
// trust add CA.pem | list | crl add FILE: the tls.trust_anchors bundle and the tls.crl file.
int runTrustCommand(const app::Settings& settings, const Arguments& args);
// route set DOMAIN HOST:PORT | remove DOMAIN | list: the [routes] section, DOMAIN = HOST:PORT.
int runRouteCommand(const app::Settings& settings, const Arguments& args);
// cert show: this instance's certificate, its subject as the whitelist must list it.
int runCertShow(const app::Settings& settings, const Arguments& args);

// directory import FILE [--force] | search TEXT [--profession P] [--specialty S] [--city C]
//   [--structure S] [--limit N] | show ADDRESS|ID: the national directory's local copy.
int runDirectoryCommand(const app::Settings& settings, const Arguments& args);

// The instance's database, its schema brought up to date.
store::Database openDatabase(const app::Settings& settings);
// Administrative changes are audited like any other access: an event of `type`
// by plexusctl:$USER, written in the caller's transaction.
void audit(store::Database& db, const std::string& type, const std::string& object,
           const std::string& outcome = "success");
// For changes to files or to another database: the audit event in a transaction of its own.
void auditChange(const app::Settings& settings, const std::string& type, const std::string& object,
                 const std::string& outcome = "success");

}  // namespace plexus::cli
