// A message as plugins read it (a stored one, or one just received and not
// yet stored): its summary, top-level header fields, MIME parts numbered as
// IMAP numbers them, and the bytes of any part as a bounded-memory stream.
#pragma once

#include "mime/MessageStructure.h"
#include "store/MailboxStore.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

// One MIME entity of a message.
struct PartInfo {
    // IMAP section (RFC 3501 §6.4.5) whose BODY[section] is this entity's
    // body: "" for the root, "1", "2.3"... The root of a message/rfc822 part
    // numbered S is "S.1" when it is not multipart; when it is multipart IMAP
    // gives it no number, and it is "S.TEXT" (its parts are S.1, S.2...).
    std::string section;
    std::string contentType;  // lower case "type/subtype"
    std::string charset;      // as written; "us-ascii" without Content-Type (RFC 2045 §5.2); "" when none
    std::string filename;     // Content-Disposition filename, else Content-Type name; "" (RFC 2231 not decoded)
    std::string disposition;  // lower case; "" when none
    std::string encoding;     // lower case Content-Transfer-Encoding, "7bit" by default
    std::uint64_t size = 0;   // body bytes as stored (encoded)
    std::uint32_t depth = 0;  // 0 for the root
    bool multipart = false;
};

enum class ReadMode {
    Raw,     // bytes as stored
    Decoded  // base64 and quoted-printable undone; other encodings as stored
};

// The bytes of one part (or of the whole message), read in chunks from the
// blob it owns: memory stays bounded whatever the part's size. Independent of
// the MessageView that made it.
class PartStream {
public:
    // The bytes [offset, offset + size) of the blob, with `undoneEncoding`
    // (a Content-Transfer-Encoding: base64, quoted-printable) undone; any other
    // value, "" included, gives them as stored.
    PartStream(store::BlobReader blob, std::uint64_t offset, std::uint64_t size, std::string_view undoneEncoding);
    PartStream(PartStream&&) noexcept;
    PartStream& operator=(PartStream&&) noexcept;
    ~PartStream();

    // Up to `capacity` bytes into `buffer`; 0 only at the end. Throws
    // store::BlobError when the blob cannot be read, std::runtime_error when
    // the encoded content is malformed; every later read throws it again.
    std::size_t read(char* buffer, std::size_t capacity);

private:
    class Source;
    std::unique_ptr<Source> source_;
};

// Reads one message; one thread at a time. The store outlives the view.
class MessageView {
public:
    MessageView(const store::MailboxStore& store, std::string blobPath, mime::MessageStructure structure);

    std::uint64_t size() const { return structure_.size; }
    const std::string& messageId() const { return structure_.envelope.messageId; }  // raw; "" when none
    const std::string& subject() const { return structure_.envelope.subject; }      // raw (RFC 2047 not decoded)
    // The first complete From address, "local@domain"; "" when none.
    std::string from() const;

    // Every MIME entity, depth first; [0] is the root.
    const std::vector<PartInfo>& parts() const { return parts_; }

    // The index-th (0 first) top-level field of that name (case-insensitive),
    // unfolded (RFC 5322 §2.2.3) and trimmed, RFC 2047 words not decoded.
    std::optional<std::string> header(std::string_view name, std::size_t index) const;

    // read(): every byte of the message, header included (the mode is ignored).
    static constexpr std::size_t kWholeMessage = std::size_t(-1);
    // The body of parts()[part], or the whole message. Throws std::out_of_range
    // for an index past parts().
    PartStream read(std::size_t part, ReadMode mode) const;

private:
    const std::vector<mime::HeaderField>& topLevelFields() const;

    const store::MailboxStore& store_;
    std::string blobPath_;
    mime::MessageStructure structure_;
    std::vector<PartInfo> parts_;
    std::vector<std::uint64_t> bodyOffsets_;  // parallel to parts_
    mutable std::optional<std::vector<mime::HeaderField>> topLevelFields_;  // read on first header()
};

}  // namespace plexus::plugins
