// PLACEHOLDER (replaced by the wt-message branch)
#pragma once
#include "mime/MessageStructure.h"
#include "store/MailboxStore.h"
#include <optional>
#include <string>
#include <vector>
namespace plexus::plugins {
struct PartInfo { std::string section, contentType, charset, filename, disposition, encoding; std::uint64_t size; std::uint32_t depth; bool multipart; };
enum class ReadMode { Raw, Decoded };
class PartStream { public: std::size_t read(char* buffer, std::size_t capacity); };
class MessageView {
public:
    MessageView(const store::MailboxStore& store, std::string blobPath, mime::MessageStructure structure);
    std::uint64_t size() const; const std::string& messageId() const; const std::string& subject() const; std::string from() const;
    const std::vector<PartInfo>& parts() const;
    std::optional<std::string> header(std::string_view name, std::size_t index) const;
    static constexpr std::size_t kWholeMessage = std::size_t(-1);
    PartStream read(std::size_t part, ReadMode mode) const;
};
}
