// videogen: command-line client of a videogen server. See client/app.h.
#include <iostream>

#include "client/app.h"
#include "client/signal_watcher.h"

int main(int argc, char** argv) {
  videogen::client::SignalWatcher::BlockSignals();
  return videogen::client::RunCli(argc, argv, std::cout, std::cerr);
}
