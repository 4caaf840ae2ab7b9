// RFC 4533 (LDAP Content Synchronization) control and message values, encoded
// and decoded with lber. Debian's libldap ships no ldap_sync.h, so the four
// values are written here, each checked against the ASN.1 of RFC 4533 §2.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// A control or message value that does not decode as RFC 4533 says.
class SyncProtocolError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class SyncMode { RefreshOnly = 1, RefreshAndPersist = 3 };

// Sync Request control value (§2.2): the BER bytes of
// SEQUENCE { mode ENUMERATED, cookie OCTET STRING OPTIONAL, reloadHint BOOLEAN DEFAULT FALSE }.
std::string encodeSyncRequest(SyncMode mode, const std::optional<std::string>& cookie, bool reloadHint = false);

// Sync State control (§2.3), on each SearchResultEntry / Reference.
enum class SyncState { Present = 0, Add = 1, Modify = 2, Delete = 3 };
struct SyncStateValue {
    SyncState state = SyncState::Present;
    std::string entryUuid;  // formatted as RFC 4122 text, lower case
    std::optional<std::string> cookie;
};
SyncStateValue decodeSyncState(std::string_view ber);

// Sync Done control (§2.4), on the SearchResultDone.
struct SyncDoneValue {
    std::optional<std::string> cookie;
    bool refreshDeletes = false;
};
SyncDoneValue decodeSyncDone(std::string_view ber);

// Sync Info intermediate message (§2.5).
struct SyncInfoValue {
    enum class Kind { NewCookie, RefreshDelete, RefreshPresent, SyncIdSet };
    Kind kind = Kind::NewCookie;
    std::optional<std::string> cookie;
    bool refreshDone = true;       // refreshDelete, refreshPresent
    bool refreshDeletes = false;   // syncIdSet: true = the UUIDs are deleted, false = present
    std::vector<std::string> uuids;  // syncIdSet, formatted as RFC 4122 text
};
SyncInfoValue decodeSyncInfo(std::string_view ber);

// The 16 octets of a syncUUID as RFC 4122 text ("xxxxxxxx-xxxx-..."), the form
// slapd gives entryUUID in; throws SyncProtocolError unless exactly 16 octets.
std::string formatUuid(std::string_view octets);

}  // namespace plexus::directory
