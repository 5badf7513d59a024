// Real-to-complex 3D FFT in float32, split into the same four range-limited stages as
// core/fft/fft3d.ts (forwardXY over z-planes, forwardZ over y-rows, and the inverses), with the same
// layouts: grid index x + nx (y + ny z), half spectrum kx fastest with nxh = nx / 2 + 1, inverse
// normalised by 1 / (nx ny nz), imaginary parts a real field cannot have (kx = 0 and kx = nx / 2)
// ignored like NumPy's irfftn. Each thread owns one instance (the scratch is per instance); the
// ranges of one stage touch disjoint memory, so threads share the grid arrays without locks.
#pragma once

#include <vector>

#include "fft1d.h"

namespace tfus {

class Fft3d {
 public:
  Fft3d(int nx, int ny, int nz);
  int nx() const { return nx_; }
  int ny() const { return ny_; }
  int nz() const { return nz_; }
  int nxh() const { return nxh_; }
  void forwardXY(const float* src, float* re, float* im, int z0, int z1);
  void forwardZ(float* re, float* im, int y0, int y1);
  void inverseZ(float* re, float* im, int y0, int y1);
  void inverseXY(float* re, float* im, float* dst, int z0, int z1);

  // Fused solver stages (core/solver/cpu/kernels.ts has the TypeScript reference of each).
  // out := inverse z stage of spec * dd_axis * kappa over rows [y0, y1): the spectral derivative
  // (dd interleaved re, im per index along `axis`, float64 as the engine stores it) gathered
  // straight into the z lines, which saves writing and re-reading a spectrum-sized array.
  void derivativeInverseZ(const float* specR, const float* specI, float* outR, float* outI, const double* dd, int axis, const float* kappa, int y0, int y1);
  // g := inverse xy stage of (re, im) over planes [z0, z1), then field := m (m field - c g) with m
  // the absorbing-layer profile along `axis` and c a scalar or per point (coef == nullptr: scalar);
  // div := g when axis == 0, div += g otherwise (when div is given). g never goes to memory.
  void inverseXYUpdate(float* re, float* im, float* field, const float* m, const float* coef, float coefScalar, int axis, float* div, int z0, int z1);

 private:
  void zStage(float* re, float* im, int y0, int y1, bool inverse);
  // The inverse y and x transforms of spectrum plane z into the real plane `out`, normalised.
  void inversePlane(float* re, float* im, int z, float* out);
  int nx_, ny_, nz_, nxh_, lines_, zBlock_;
  Plan1d px_, py_, pz_;
  // x stage: `lines_` complex rows (two real rows each) of nx; y stage: one spectrum plane;
  // z stage: a block of zBlock_ lines of nz. Data and work buffers for each.
  std::vector<float> xr_, xi_, xwr_, xwi_, pwr_, pwi_, zr_, zi_, zwr_, zwi_;
  // One real plane of the inverse (inverseXYUpdate) and the derivative's factors along one axis.
  std::vector<float> g_, ddr_, ddi_;
  // A row of zeros: the partner of the last row when ny is odd.
  std::vector<float> zeros_;
};

}  // namespace tfus
