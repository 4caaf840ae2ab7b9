// A directory database in a temporary folder, and record builders.
#pragma once

#include "directory/DirectoryStore.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace plexus::directory::test {

class DirectoryFixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "plexus-directory-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        store_ = std::make_unique<DirectoryStore>((dir_ / "directory.db").string());
    }
    void TearDown() override
    {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    DirectoryStore& store() { return *store_; }

    static Person person(std::string nationalId, std::string first, std::string last, std::string source = "ldap:test")
    {
        return Person{source, "uuid-" + nationalId, nationalId, "DR", std::move(last), std::move(first),
                      "10", "Médecin", "SM54", "Médecine générale", "L"};
    }
    static Structure structure(std::string finess, std::string name, std::string city,
                               std::string source = "ldap:test")
    {
        return Structure{source, "uuid-" + finess, finess, "", std::move(name), "1 rue de la Paix", "75002",
                         std::move(city), "75"};
    }
    static Mailbox mailbox(std::string address, std::string type, std::string nationalId, std::string structureId,
                           std::string source = "ldap:test")
    {
        return Mailbox{source, "uuid-" + address, std::move(address), std::move(type), std::move(nationalId),
                       std::move(structureId), "", false};
    }

    std::filesystem::path dir_;
    std::unique_ptr<DirectoryStore> store_;
};

}  // namespace plexus::directory::test
