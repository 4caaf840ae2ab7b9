// What a message hook may do to a received message before it is stored: add
// header fields, or replace its content. Either way the result is a new blob,
// streamed through intake::MessageReceiver so it is parsed again and held to
// the same size limits as a message received over SMTP.
#pragma once

#include "intake/MessageReceiver.h"
#include "store/MailboxStore.h"

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::plugins {

// The edited message would exceed the message or header size limit.
class MessageTooLarge : public std::length_error {
public:
    using std::length_error::length_error;
};

struct HeaderAddition {
    std::string name, value;
};

// Throws std::invalid_argument, saying what is wrong, unless the field can be
// prepended as it is: a name of 1 to 76 printable ASCII characters (33 to 126)
// without ':', and not a field that would change how the message is parsed
// (Content-*, MIME-Version) or that RFC 5322 §3.6 allows only once (From,
// Subject, Message-ID...); a value of valid UTF-8, at most 900 bytes, without
// control characters other than TAB (so no CR, LF or NUL).
void validateHeader(const HeaderAddition& header);

// A new blob holding `headers` ("Name: value\r\n" each, in order) then every
// byte of the blob at `blobPath`, which is left as it is (the caller unlinks
// it). Throws std::invalid_argument for a header validateHeader() refuses,
// MessageTooLarge past maxSize or maxHeaderSize.
intake::MessageReceiver::Received prependHeaders(const store::MailboxStore& store, const std::string& blobPath,
                                                 const std::vector<HeaderAddition>& headers, std::uint64_t maxSize,
                                                 std::uint64_t maxHeaderSize);

// A new content for a message, written by a plugin in pieces. An unfinished
// replacement leaves no file behind (the blob writer removes a file it did not
// commit). Once write() or finish() has thrown, every later call throws the
// same error.
class ContentReplacement {
public:
    ContentReplacement(const store::MailboxStore& store, std::uint64_t maxSize, std::uint64_t maxHeaderSize);

    // Appends bytes. Throws MessageTooLarge past a size limit, and
    // std::invalid_argument at a line break other than CRLF.
    void write(std::string_view bytes);
    // Checks the content is a message (not empty, header fields then an empty
    // line, CRLF line breaks) and returns the new blob, fsynced; the caller
    // fsyncs its directory, indexes it, and unlinks it if indexing fails.
    intake::MessageReceiver::Received finish();

    std::uint64_t size() const { return receiver_.size(); }

private:
    // Throws the error that ended this replacement, if any.
    void requireUsable() const;
    // Checks the line breaks and finds the end of the header, byte by byte.
    void scan(std::string_view bytes);

    intake::MessageReceiver receiver_;
    std::uint64_t maxSize_;
    std::uint64_t maxHeaderSize_;
    std::exception_ptr failure_;  // the first error thrown, thrown again by later calls
    bool finished_ = false;
    bool afterCr_ = false;         // the last byte was a CR: a LF must follow
    bool lineEmpty_ = true;        // nothing yet on the current line but its CR
    bool headerComplete_ = false;  // the empty line ending the header was seen
};

}  // namespace plexus::plugins
