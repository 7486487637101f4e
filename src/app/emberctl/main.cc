// emberctl: the operator's command line for a running emberd's admin endpoint (docs/operations.md,
// "emberctl"). Everything is in ctl.cc.
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "app/emberctl/ctl.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  return ember::ctl::runEmberctl(argc, argv, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1);
}
