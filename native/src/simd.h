// Compiler hints shared by the kernels. The hot loops are plain C++ that GCC and Clang vectorise;
// on x86-64 with GCC each entry point is compiled twice (AVX2 + FMA, and the baseline SSE2) and the
// loader picks the clone the CPU supports (function multi-versioning), so one binary runs on any
// x86-64 machine and uses 256-bit vectors where they exist.
#pragma once

#define TFUS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define TFUS_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TFUS_CLONES
#endif
