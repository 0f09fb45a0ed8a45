// The OpenMP environment Osprey's programs run in.
//
// OpenMP (libgomp) and OpenBLAS (its pthread build, Debian's default) keep separate thread pools.
// With libgomp's default wait policy the OpenMP workers spin after every parallel region and take
// the cores the next BLAS call needs; on the 2-core machine that made a ResNet-20 training step
// 4-5x slower under load (docs/performance.md). libgomp reads OMP_WAIT_POLICY once, when it is
// loaded, so a program cannot change it for itself: `use_passive_openmp_wait` sets it and
// re-executes the program when the user has not chosen a policy. Called first thing in main() of
// the `osprey` command and the benchmarks.
#pragma once

namespace osprey {

// Returns only when OMP_WAIT_POLICY was already set (or the re-exec failed, which is reported on
// stderr and otherwise harmless).
void use_passive_openmp_wait(char** argv);

}  // namespace osprey
