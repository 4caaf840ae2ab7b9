// The parsed shape of one stored message: what IMAP needs for ENVELOPE,
// BODYSTRUCTURE and BODY[section] without re-reading the blob, plus a few
// top-level header values for SEARCH/SORT/THREAD. Stored as JSON beside the blob.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::mime {

// One entry of an IMAP ENVELOPE address list (RFC 3501 §7.4.2). An empty string
// stands for NIL. Groups are flattened IMAP-style: a start marker
// {mailbox = group name, host = NIL}, the members, then an end marker (all NIL).
struct Address {
    std::string name;     // display name as written: unquoted, RFC 2047 words NOT decoded
    std::string adl;      // source route: always NIL (obsolete, dropped by libetpan)
    std::string mailbox;  // local part
    std::string host;     // domain; kMissingHost when the address has none

    static constexpr std::string_view kMissingHost = ".MISSING-HOST-NAME.";  // UW-IMAP's convention

    bool isGroupStart() const { return host.empty() && !mailbox.empty(); }
    bool isGroupEnd() const { return host.empty() && mailbox.empty(); }
    bool operator==(const Address&) const = default;
};

// Raw header values as IMAP ENVELOPE wants them: unfolded (RFC 5322 §2.2.3),
// trimmed, encoded-words not decoded; empty = field absent. Kept as written:
// the RFC 3501 defaulting of Sender and Reply-To to From is left to the IMAP
// layer (imapSender(), imapReplyTo()).
struct Envelope {
    std::string date, subject, inReplyTo, messageId;
    std::vector<Address> from, sender, replyTo, to, cc, bcc;

    const std::vector<Address>& imapSender() const { return sender.empty() ? from : sender; }
    const std::vector<Address>& imapReplyTo() const { return replyTo.empty() ? from : replyTo; }
    bool operator==(const Envelope&) const = default;
};

struct Parameter {
    std::string name, value;  // name as written; value unquoted, RFC 2231 not decoded
    bool operator==(const Parameter&) const = default;
};

struct HeaderField {
    std::string name, value;  // value unfolded and trimmed
    bool operator==(const HeaderField&) const = default;
};

// One MIME entity. Strings keep the case of the message (IMAP uppercases where
// it wants to); defaults of RFC 2045 are filled in: text/plain; charset=us-ascii
// (message/rfc822 inside multipart/digest) and 7bit.
struct BodyPart {
    std::string type, subtype;
    std::vector<Parameter> params;
    std::string id, description, encoding, md5;  // raw values, except encoding: lowercase mechanism
    std::string disposition;                     // empty: no Content-Disposition
    std::vector<Parameter> dispositionParams;
    std::vector<std::string> language;
    std::string location;

    // Absolute byte offsets in the message. The header includes its blank line;
    // the body excludes the line break before a boundary (RFC 2046 §5.1.1).
    std::uint64_t headerOffset = 0, headerSize = 0, bodyOffset = 0, bodySize = 0;
    std::uint64_t bodyLines = 0;  // line breaks in the body, plus a last line without one

    // multipart/*: the parts (may be empty: no boundary found, limits; IMAP then
    // writes an empty text/plain, like Dovecot). message/rfc822 and message/global
    // parsed as messages: exactly one child, the encapsulated message's root, and
    // `envelope` set; when not parsed (encoded, limits) neither is set.
    std::vector<BodyPart> children;
    std::optional<Envelope> envelope;

    bool isMultipart() const;
    bool isEncapsulatedMessage() const { return envelope.has_value(); }
    // First parameter of that name (case-insensitive).
    std::optional<std::string_view> param(std::string_view name) const;
    bool operator==(const BodyPart&) const = default;
};

struct MessageStructure {
    Envelope envelope;
    BodyPart root;
    std::uint64_t size = 0;        // bytes fed
    std::uint64_t headerSize = 0;  // top-level header, blank line included: re-read it for SEARCH HEADER
    // Top-level fields not in the envelope that the server indexes: References
    // and X-MSS-* (MSSanté), bounded by Limits::maxIndexedHeaderBytes.
    std::vector<HeaderField> headers;

    // First indexed value of that field (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const;

    // Compact, lossless (bytes that are not UTF-8 survive); fromJson throws
    // std::exception on text that toJson did not produce.
    std::string toJson() const;
    static MessageStructure fromJson(std::string_view json);

    bool operator==(const MessageStructure&) const = default;
};

}  // namespace plexus::mime
