// Names folded the way mailbox_search folds its words (SQLite's FTS5
// `unicode61` tokenizer, `remove_diacritics 2`): lower case, accents removed,
// punctuation a word break. Search results sort by these keys, so that
// "Émile" sorts with the E's and not after Z. No ICU: SQLite's own tables,
// through the FTS5 tokenizer API.
#pragma once

#include "store/Sqlite.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::directory {

// Destroys an FTS5 tokenizer instance with its module's xDelete.
struct Fts5TokenizerDeleter {
    void (*destroy)(Fts5Tokenizer*) = nullptr;
    void operator()(Fts5Tokenizer* tokenizer) const { destroy(tokenizer); }
};

class NameFolder {
public:
    // Throws store::SqliteError when the connection has no FTS5 unicode61.
    explicit NameFolder(store::Database& db);

    // The words of `text`, folded, separated by single spaces ("Lefèvre-Secret" → "lefevre secret").
    std::string fold(std::string_view text) const;
    // The same words one by one: the tokens mailbox_search holds for `text`.
    std::vector<std::string> words(std::string_view text) const;

private:
    using TokenSink = int (*)(void* sink, int flags, const char* token, int length, int start, int end);
    void tokenize(std::string_view text, void* sink, TokenSink take) const;

    fts5_tokenizer methods_{};
    std::unique_ptr<Fts5Tokenizer, Fts5TokenizerDeleter> tokenizer_;
};

}  // namespace plexus::directory
