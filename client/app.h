// The `videogen` command line: flag parsing and the subcommands
// (generate, watch, cancel, jobs, models, health). See exit_code.h for the
// exit codes. Output: results on `out` (stdout), progress and the one-line
// errors on `err` (stderr); with --json, one JSON object per line on `out`.
#pragma once

#include <ostream>

namespace videogen::client {

// Runs the CLI and returns the process exit code. Expects SIGINT/SIGTERM to
// be blocked in all threads (SignalWatcher::BlockSignals() first in main):
// it watches them itself.
int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace videogen::client
