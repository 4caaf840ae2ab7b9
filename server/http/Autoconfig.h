// Client self-configuration: the Thunderbird autoconfig document
// (clientConfig 1.1), served at /.well-known/autoconfig/mail/config-v1.1.xml
// and /mail/config-v1.1.xml, which Thunderbird, Evolution, K-9/Thunderbird
// for Android and others fetch when a user types their address.
#pragma once

#include <string>
#include <vector>

namespace plexus::http {

struct MailEndpoints {
    std::string hostname;   // what clients connect to
    std::vector<std::string> domains;
    unsigned short imaps = 993, imap = 143, submissions = 465, submission = 587;
    bool passwords = true;  // offer password-cleartext (over TLS only)
    bool tokens = false;    // offer OAuth2 (Pro Santé Connect bearer tokens)
};

std::string autoconfigXml(const MailEndpoints& endpoints);

}  // namespace plexus::http
