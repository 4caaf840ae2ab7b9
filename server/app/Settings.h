// The configuration of a Plexus instance (DIR/plexus.conf, INI syntax), read
// once into plain structs that the modules take their own parts from.
#pragma once

#include "accounts/Authenticator.h"
#include "directory/DirectorySettings.h"
#include "net/TlsContext.h"
#include "imap/ImapServer.h"
#include "plugins/PluginSettings.h"
#include "queue/RelaySettings.h"
#include "relay/Routing.h"
#include "relay/SmtpRelayClient.h"
#include "smtp/SmtpServer.h"
#include "trust/CrlRefresh.h"
#include "trust/WhitelistSource.h"

#include <cstdint>
#include <string>
#include <vector>

namespace plexus::app {

struct Ports {
    std::string address = "0.0.0.0";
    unsigned short mx = 25, submission = 587, submissions = 465, imap = 143, imaps = 993, http = 80;
};

struct Settings {
    std::string configPath;
    std::string dataDir;
    std::string hostname;
    std::string primaryDomain;
    Ports ports;
    net::TlsFiles tls;
    trust::CrlRefreshSettings crls;            // [tls] crl_sources and their schedule
    trust::WhitelistSourceSettings whitelist;  // [trust]
    std::string databasePath;
    std::string blobDir;
    std::string atRestKeyPath;
    std::int64_t defaultQuotaBytes = 1ll << 30;
    int maxSessions = 500;
    smtp::SmtpSettings smtp;
    imap::ImapSettings imap;
    accounts::AuthPolicy auth;
    std::vector<plugins::PluginSettings> plugins;  // in load order
    queue::RelaySettings relay;           // [relay]: the outbound queue's schedule and limits
    relay::ClientSettings relayClient;    // [relay]: the relay client's timeouts
    relay::RouteTable routes;             // [routes]
    directory::DirectorySettings directory;
};

class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

Settings loadSettings(const std::string& path);

}  // namespace plexus::app
