#include "framework/core/thread_environment.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace osprey {

void use_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "osprey: could not re-execute with OMP_WAIT_POLICY=PASSIVE (%s)\n",
               std::strerror(errno));
}

}  // namespace osprey
