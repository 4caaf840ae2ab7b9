// PLACEHOLDER (replaced by the wt-http branch)
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>
namespace plexus::plugins {
struct DirectoryEntry { std::string address, type, nationalId, structureId, displayName, profession, city, source; };
struct DirectoryQuery { std::string text, nationalId, profession, city; std::size_t limit = 50; };
class DirectoryService { public: virtual ~DirectoryService() = default; virtual std::optional<DirectoryEntry> lookup(std::string_view address) = 0; virtual std::vector<DirectoryEntry> search(const DirectoryQuery&) = 0; };
}
