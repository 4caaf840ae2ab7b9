// PLACEHOLDER (replaced by the wt-message branch)
#pragma once
#include "intake/MessageReceiver.h"
#include <stdexcept>
#include <string>
#include <vector>
namespace plexus::plugins {
struct HeaderAddition { std::string name, value; };
class MessageTooLarge : public std::length_error { using std::length_error::length_error; };
void validateHeader(const HeaderAddition&);
intake::MessageReceiver::Received prependHeaders(const store::MailboxStore&, const std::string& blobPath, const std::vector<HeaderAddition>&, std::uint64_t maxSize, std::uint64_t maxHeaderSize);
class ContentReplacement {
public:
    ContentReplacement(const store::MailboxStore& store, std::uint64_t maxSize, std::uint64_t maxHeaderSize);
    void write(std::string_view bytes);
    intake::MessageReceiver::Received finish();
};
}
