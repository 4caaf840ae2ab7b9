// Receives the bytes of one message (SMTP DATA after dot-unstuffing, BDAT
// chunks, IMAP APPEND literals) straight into an encrypted blob and the MIME
// structure parser, so a message is never held whole in memory, and enforces
// the size limits.
#pragma once

#include "mime/StructureParser.h"
#include "store/MailboxStore.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plexus::intake {

enum class MessageProblem { None, TooBig, HeaderTooBig, LineTooLong, BareLf, TooManyHops };

class MessageReceiver {
public:
    MessageReceiver(const store::MailboxStore& store, std::uint64_t maxSize, std::uint64_t maxHeaderSize);

    void append(std::string_view bytes);
    // Set by the DATA reader for problems only it can see (line endings, line length).
    void reject(MessageProblem problem);
    MessageProblem problem() const { return problem_; }
    std::uint64_t size() const { return size_; }
    // RFC 5321 6.3 loop detection: more Received: fields in the header than
    // this is TooManyHops. Unlimited unless set.
    void limitHops(unsigned maxHops) { maxHops_ = maxHops; }
    // The Received: fields seen in the header so far.
    unsigned hops() const { return hops_; }

    struct Received {
        std::string blobPath;
        std::string blobDirectory;
        std::uint64_t size;
        mime::MessageStructure structure;
    };
    // fsyncs the blob; the caller indexes it (and unlinks it if indexing fails).
    Received finish();

private:
    void trackHeader(std::string_view bytes);
    void countHop(char c);

    std::optional<store::NewBlob> blob_;
    mime::StructureParser parser_;
    std::uint64_t maxSize_;
    std::uint64_t maxHeaderSize_;
    std::uint64_t size_ = 0;
    std::uint64_t headerSize_ = 0;
    bool inHeader_ = true;
    int newlinesInARow_ = 0;  // header ends at an empty line
    std::string fieldStart_;  // the first bytes of the current header line, up to "received:"
    unsigned hops_ = 0;
    std::optional<unsigned> maxHops_;
    MessageProblem problem_ = MessageProblem::None;
};

}  // namespace plexus::intake
