#pragma once

// The built `lienthong` binary run by tests: a runner with its scratch
// directory, shared by the CLI's tests, with or without an intake server.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

extern char** environ;

namespace lienthong::intake::cli_testing {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// This binary's own directory for the files it writes, removed when it
// exits: other checkouts' runs of this test may share /tmp.
inline const std::string& Scratch() {
  static const struct Dir {
    Dir() {
      std::string t =
          absl::StrCat(::testing::TempDir(), "lienthong-cli-XXXXXX");
      if (mkdtemp(t.data()) != nullptr) path = t;
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
    std::string path;
  } dir;
  return dir.path;
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs build/<preset>/tools/cli/lienthong with `args` (in `cwd` when
// given); stdout and stderr through files, so a large output cannot block
// it.
inline CliRun Cli(const std::vector<std::string>& args,
                  const std::string& cwd = "") {
  const std::string bin =
      absl::StrCat(std::getenv("LIENTHONG_BINARY_DIR"), "/tools/cli/lienthong");
  const std::string out = absl::StrCat(Scratch(), "/cli.out");
  const std::string err = absl::StrCat(Scratch(), "/cli.err");
  std::vector<std::string> argv_storage = {bin};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid;
  CliRun r;
  const int rc =
      posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot run " << bin << ": " << rc;
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

inline std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

}  // namespace lienthong::intake::cli_testing
