// The solver's point-wise passes over a member's z-slab (core/solver/cpu/kernels.ts has the
// TypeScript reference of each). A medium property is a scalar (array == nullptr) or one value per point.
#pragma once

#include <cstddef>

namespace tfus {

struct GridField {
  const float* array;
  float scalar;
  float at(size_t i) const { return array ? array[i] : scalar; }
};

// p := c0^2 (rho_x + rho_y + rho_z) without absorption (div == nullptr), or with y = 2 absorption
// p := c0^2 (rho_x + rho_y + rho_z + tau rho0 div u) (Treeby & Cox 2010, eq. 11 at y = 2), the
// product tau rho0 given as one field.
void pressure(float* p, const float* rx, const float* ry, const float* rz, GridField c0sq, GridField tauRho0, const float* div, size_t from, size_t to);

// The window DFT: sumCos += p cos(omega t), sumSin += p sin(omega t) over the user's sub-grid planes [uz0, uz1).
void accumulate(const float* p, double* sumCos, double* sumSin, int nx, int ny, int sx, int sy, int sz, int ux, int uy, int uz0, int uz1, double c, double s);

}  // namespace tfus
