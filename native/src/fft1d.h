// Batched 1D complex FFTs in float32 for lengths whose prime factors are 2, 3, 5 and 7: the native
// counterpart of core/fft/plan.ts (same convention: forward exp(-i...), inverse unnormalised, the
// inverse as swap(DFT(swap(x))) so that one set of kernels serves both directions).
//
// Algorithm: mixed-radix Stockham autosort (Van Loan, "Computational Frameworks for the FFT",
// SIAM 1992, section 1.7), decimation in frequency. Batched layout: element j of line b at
// j * batch + b, so every butterfly's inner loop runs over a contiguous run of stride * batch
// floats that share one twiddle. That run is what the compiler vectorises (AVX2 where the CPU
// has it, see the target clones in fft3d.cc); no intrinsics, so the same code builds on arm64.
#pragma once

#include <vector>

namespace tfus {

class Plan1d {
 public:
  explicit Plan1d(int n);
  int n() const { return n_; }
  const std::vector<int>& radices() const { return radices_; }
  // In-place forward transform of `batch` interleaved lines (arrays of n * batch floats); work
  // arrays of the same size are overwritten.
  void forwardBatch(float* re, float* im, int batch, float* workRe, float* workIm) const;
  // In-place unnormalised inverse: the forward kernels on swapped real and imaginary parts.
  void inverseBatch(float* re, float* im, int batch, float* workRe, float* workIm) const {
    forwardBatch(im, re, batch, workIm, workRe);
  }

 private:
  int n_;
  std::vector<int> radices_;
  // Per stage: the twiddles W_len^(p u) for p < len / radix and 1 <= u < radix, at p * (radix - 1) + u - 1.
  std::vector<std::vector<float>> twRe_, twIm_;
};

// True when every prime factor of n is 2, 3, 5 or 7.
bool fftFriendly(int n);

}  // namespace tfus
