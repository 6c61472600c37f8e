// An interrupt must not leave temporary files behind (DESIGN.md section 4: a failure never leaves partial output).
#include "util/temporary_files.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "util/atomic_file.hpp"

namespace lmac {
namespace {

namespace fs = std::filesystem;

std::string scratch_file(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::ofstream(p) << "partial";
  return p.string();
}

TEST(TemporaryFileGuardDeathTest, AnInterruptRemovesTheGuardedFileAndStillEndsTheProcess) {
  const std::string guarded = scratch_file("lmac-guarded");
  const std::string released = scratch_file("lmac-released");
  EXPECT_EXIT(
      {
        { const TemporaryFileGuard done(released); }  // no longer guarded once its guard is gone
        const TemporaryFileGuard guard(guarded);
        std::raise(SIGTERM);
        std::exit(0);  // not reached: the signal still ends the process
      },
      ::testing::KilledBySignal(SIGTERM), "");
  EXPECT_FALSE(fs::exists(guarded));
  EXPECT_TRUE(fs::exists(released));
  fs::remove(released);
}

TEST(TemporaryFileGuardTest, WithoutAnInterruptTheOwnerDecides) {
  const std::string path = scratch_file("lmac-owned");
  { const TemporaryFileGuard guard(path); }
  EXPECT_TRUE(fs::exists(path));
  fs::remove(path);
}

TEST(AtomicFileTest, WritesTheWholeFileAndLeavesNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / ("lmac-atomic-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_file_atomically((dir / "out.json").string(), "{\"a\": 1}\n");
  std::ifstream in(dir / "out.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"a\": 1}\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lmac
