#include "directory/NameFolding.h"

#include <algorithm>
#include <array>
#include <climits>

namespace plexus::directory {

namespace {

// The FTS5 extension's API of this connection (https://sqlite.org/fts5.html#extending_fts5).
fts5_api* fts5Of(store::Database& db)
{
    sqlite3_stmt* raw = nullptr;
    if (const int rc = sqlite3_prepare_v2(db.handle(), "SELECT fts5(?1)", -1, &raw, nullptr); rc != SQLITE_OK)
        throw store::SqliteError(std::string("FTS5 unavailable: ") + sqlite3_errmsg(db.handle()), rc);
    const std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(raw, &sqlite3_finalize);
    fts5_api* api = nullptr;
    sqlite3_bind_pointer(raw, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(raw);
    if (api == nullptr) throw store::SqliteError("FTS5 unavailable", SQLITE_ERROR);
    return api;
}

}  // namespace

NameFolder::NameFolder(store::Database& db)
{
    fts5_api* api = fts5Of(db);
    void* context = nullptr;
    if (const int rc = api->xFindTokenizer(api, "unicode61", &context, &methods_); rc != SQLITE_OK)
        throw store::SqliteError("FTS5 tokenizer unicode61 unavailable", rc);
    // The options of mailbox_search (DirectorySchema.cpp).
    std::array<const char*, 2> options{"remove_diacritics", "2"};
    Fts5Tokenizer* tokenizer = nullptr;
    if (const int rc = methods_.xCreate(context, options.data(), static_cast<int>(options.size()), &tokenizer);
        rc != SQLITE_OK)
        throw store::SqliteError("FTS5 tokenizer unicode61 refused its options", rc);
    tokenizer_ = {tokenizer, Fts5TokenizerDeleter{methods_.xDelete}};
}

void NameFolder::tokenize(std::string_view text, void* sink, TokenSink take) const
{
    // Names and search words are short (at most a few hundred bytes); the API counts in int.
    const auto length = static_cast<int>(std::min<std::size_t>(text.size(), INT_MAX));
    methods_.xTokenize(tokenizer_.get(), sink, FTS5_TOKENIZE_DOCUMENT, text.data(), length, take);
}

std::string NameFolder::fold(std::string_view text) const
{
    std::string folded;
    tokenize(text, &folded, [](void* out, int, const char* token, int length, int, int) {
        auto& words = *static_cast<std::string*>(out);
        if (!words.empty()) words += ' ';
        words.append(token, static_cast<std::size_t>(length));
        return SQLITE_OK;
    });
    return folded;
}

std::vector<std::string> NameFolder::words(std::string_view text) const
{
    std::vector<std::string> words;
    tokenize(text, &words, [](void* out, int, const char* token, int length, int, int) {
        static_cast<std::vector<std::string>*>(out)->emplace_back(token, static_cast<std::size_t>(length));
        return SQLITE_OK;
    });
    return words;
}

}  // namespace plexus::directory
