#include "pointwise.h"

#include "simd.h"

namespace tfus {

TFUS_CLONES void pressure(float* p, const float* rx, const float* ry, const float* rz, GridField c0sq, GridField tauRho0, const float* div, size_t from, size_t to) {
  if (!div) {
    if (c0sq.array)
      for (size_t i = from; i < to; i++) p[i] = c0sq.array[i] * (rx[i] + ry[i] + rz[i]);
    else
      for (size_t i = from; i < to; i++) p[i] = c0sq.scalar * (rx[i] + ry[i] + rz[i]);
    return;
  }
  if (c0sq.array && tauRho0.array) {
    for (size_t i = from; i < to; i++) p[i] = c0sq.array[i] * (rx[i] + ry[i] + rz[i] + tauRho0.array[i] * div[i]);
    return;
  }
  for (size_t i = from; i < to; i++) p[i] = c0sq.at(i) * (rx[i] + ry[i] + rz[i] + tauRho0.at(i) * div[i]);
}

TFUS_CLONES void accumulate(const float* p, double* sumCos, double* sumSin, int nx, int ny, int sx, int sy, int sz, int ux, int uy, int uz0, int uz1, double c, double s) {
  for (int k = uz0; k < uz1; k++)
    for (int j = 0; j < uy; j++) {
      const float* src = p + sx + static_cast<size_t>(nx) * (sy + j + static_cast<size_t>(ny) * (sz + k));
      const size_t dst = static_cast<size_t>(ux) * (j + static_cast<size_t>(uy) * k);
      double* sc = sumCos + dst;
      double* ss = sumSin + dst;
      for (int i = 0; i < ux; i++) {
        const double v = src[i];
        sc[i] += v * c;
        ss[i] += v * s;
      }
    }
}

}  // namespace tfus
