// plexusctl --config FILE <command>: operator commands for a Plexus instance.
#include "cli/Commands.h"

#include <iostream>

namespace {

constexpr const char* usage = R"(usage: plexusctl [--config FILE] <command>
  init --dir DIR --domain DOMAIN [--listen ADDR] [--port-offset N]
  mailbox add ADDRESS --type PER|ORG|APP|CAB [--rpps ID | --finess ID] [--quota-mb N] [--password-stdin]
  mailbox list
  mailbox show ADDRESS
  mailbox remove ADDRESS
  message cat ADDRESS UID [--folder NAME]
  delegate add ORG_ADDRESS PERSON_ADDRESS
  passwd ADDRESS --password-stdin
  cert issue NAME --out DIR
  cert show
  whitelist show
  whitelist check DOMAIN
  whitelist refresh [--force]
  whitelist source FILE_OR_URL|none [--checksum FILE_OR_URL | --no-checksum] [--ca FILE]
  trust add CA.pem
  trust list
  trust crl add FILE
  trust crl source add FILE_OR_URL [--ca FILE]
  trust crl source remove FILE_OR_URL
  trust crl source list
  trust crl refresh
  route set DOMAIN HOST:PORT
  route remove DOMAIN
  route list
  plugin add PATH.so [--name NAME]
  plugin remove NAME
  plugin show NAME
  plugins
  queue list
  queue show ID
  queue retry ID | queue retry --all
  queue delete ID
  directory configure --uri URI --base DN [--name NAME] [--scope sub|one] [--filter FILTER]
      [--bind-dn DN --password-file FILE | --sasl-external --cert FILE --key FILE] [--ca FILE]
      [--map FIELD=ATTRIBUTE ...] [--page-size N] [--batch-size N] [--max-delete-share 0.2]
      [--mode refreshOnly|refreshAndPersist] [--sync-interval MINUTES]
  directory sync [--full] [--force]
  directory configure-publish --uri URI --base DN --object-class CLASS ... [--rdn ATTRIBUTE]
      [--bind-dn DN --password-file FILE | --sasl-external --cert FILE --key FILE] [--ca FILE]
      [--map FIELD=ATTRIBUTE ...]
  directory publish [--ldap] [--export FILE] [--dry-run] [--force]
  directory import FILE [--force] [--kind correspondance|personne-activite]
  directory search TEXT [--profession P] [--specialty S] [--city C] [--structure S] [--limit N]
  directory show ADDRESS|NATIONAL_ID
The configuration file defaults to $PLEXUS_CONFIG, then ./plexus.conf.
)";

}  // namespace

int main(int argc, char** argv)
{
    using namespace plexus;
    try {
        const auto args =
            cli::Arguments::parse(argc, argv, {"password-stdin", "help", "force", "no-checksum", "all", "full", "sasl-external", "ldap", "dry-run"});
        if (args.flag("help") || args.words.empty()) {
            std::cout << usage;
            return args.words.empty() && !args.flag("help") ? 2 : 0;
        }
        const std::string command = args.words[0];
        if (command == "init") return cli::runInit(args);

        std::string configPath = "plexus.conf";
        if (const char* env = std::getenv("PLEXUS_CONFIG")) configPath = env;
        if (auto option = args.option("config")) configPath = *option;
        if (command == "plugin") return cli::runPluginCommand(configPath, args);
        const auto settings = app::loadSettings(configPath);
        if (command == "mailbox") return cli::runMailboxCommand(settings, args);
        if (command == "message") return cli::runMessageCommand(settings, args);
        if (command == "delegate") return cli::runDelegateCommand(settings, args);
        if (command == "passwd") return cli::runPasswd(settings, args);
        if (command == "cert" && args.words.size() > 1 && args.words[1] == "show") return cli::runCertShow(settings, args);
        if (command == "cert") return cli::runCertCommand(settings, args);
        if (command == "whitelist") return cli::runWhitelistCommand(settings, args);
        if (command == "trust") return cli::runTrustCommand(settings, args);
        if (command == "route") return cli::runRouteCommand(settings, args);
        if (command == "plugins") return cli::runPluginList(settings, args);
        if (command == "queue") return cli::runQueueCommand(settings, args);
        if (command == "directory") return cli::runDirectoryCommand(settings, args);
        throw cli::UsageError("unknown command " + command);
    } catch (const cli::UsageError& e) {
        std::cerr << "plexusctl: " << e.what() << " (try --help)\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "plexusctl: " << e.what() << '\n';
        return 1;
    }
}
