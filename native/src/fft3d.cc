#include "fft3d.h"

#include <algorithm>

#include "simd.h"

namespace tfus {

namespace {

// The transposes between rows (x contiguous) and the batched layout (element j of line l at
// j * lines + l) go through blocks of kLineBlock lines: each pass then reads or writes 2 * kLineBlock
// rows sequentially and the batched side kLineBlock contiguous floats, instead of one float per
// cache line (a plain scatter ran at L2 latency and cost more than the transforms it fed).
constexpr int kLineBlock = 8;

// Two real rows a = 2l and b = 2l + 1 as one complex row a + i b, into the batched layout, in
// kLineBlock x kLineBlock tiles (a fixed-size tile the compiler turns into register shuffles). A
// missing last row (odd ny) reads as zeros.
TFUS_CLONES void packRows(const float* plane, int nx, int ny, int lines, float* bufR, float* bufI, const float* zeros) {
  constexpr int T = kLineBlock;
  for (int l0 = 0; l0 < lines; l0 += T) {
    const int lc = std::min(lines - l0, T);
    const float* rowA[T];
    const float* rowB[T];
    for (int l = 0; l < T; l++) {
      const int a = 2 * std::min(l0 + l, lines - 1);
      rowA[l] = plane + static_cast<size_t>(a) * nx;
      rowB[l] = a + 1 < ny ? rowA[l] + nx : zeros;
    }
    int j0 = 0;
    if (lc == T)
      for (; j0 + T <= nx; j0 += T) {
        float tr[T][T], ti[T][T];
        for (int l = 0; l < T; l++)
          for (int j = 0; j < T; j++) {
            tr[j][l] = rowA[l][j0 + j];
            ti[j][l] = rowB[l][j0 + j];
          }
        for (int j = 0; j < T; j++)
          for (int l = 0; l < T; l++) {
            bufR[static_cast<size_t>(j0 + j) * lines + l0 + l] = tr[j][l];
            bufI[static_cast<size_t>(j0 + j) * lines + l0 + l] = ti[j][l];
          }
      }
    for (int j = j0; j < nx; j++)
      for (int l = 0; l < lc; l++) {
        bufR[static_cast<size_t>(j) * lines + l0 + l] = rowA[l][j];
        bufI[static_cast<size_t>(j) * lines + l0 + l] = rowB[l][j];
      }
  }
}

// Separates the transforms of the two packed rows: with Z = DFT(a + i b) and W[k] = Z[(nx - k) % nx],
// A[k] = (Z[k] + conj W[k]) / 2 and B[k] = (Z[k] - conj W[k]) / (2 i).
TFUS_CLONES void unpackSpectra(const float* bufR, const float* bufI, int nx, int nxh, int ny, int lines, float* specR, float* specI) {
  for (int l0 = 0; l0 < lines; l0 += kLineBlock) {
    const int l1 = std::min(lines, l0 + kLineBlock);
    for (int k = 0; k < nxh; k++) {
      const int nk = (nx - k) % nx;
      const float* zr = bufR + static_cast<size_t>(k) * lines;
      const float* zi = bufI + static_cast<size_t>(k) * lines;
      const float* wr = bufR + static_cast<size_t>(nk) * lines;
      const float* wi = bufI + static_cast<size_t>(nk) * lines;
      for (int l = l0; l < l1; l++) {
        const size_t a = static_cast<size_t>(2 * l) * nxh + k;
        specR[a] = 0.5f * (zr[l] + wr[l]);
        specI[a] = 0.5f * (zi[l] - wi[l]);
        if (2 * l + 1 < ny) {
          specR[a + nxh] = 0.5f * (zi[l] + wi[l]);
          specI[a + nxh] = -0.5f * (zr[l] - wr[l]);
        }
      }
    }
  }
}

// The inverse of unpackSpectra: Z = A + i B over the full kx range, A and B extended by Hermitian
// symmetry; the imaginary parts at kx = 0 and kx = nx / 2 are dropped (NumPy irfftn).
TFUS_CLONES void packSpectra(const float* specR, const float* specI, int nx, int nxh, int ny, int lines, float* bufR, float* bufI) {
  for (int l0 = 0; l0 < lines; l0 += kLineBlock) {
    const int l1 = std::min(lines, l0 + kLineBlock);
    for (int k = 0; k < nx; k++) {
      const bool mirrored = k >= nxh;
      const int src = mirrored ? nx - k : k;
      const float sign = mirrored ? -1.f : 1.f;
      const bool realOnly = k == 0 || 2 * k == nx;
      float* zr = bufR + static_cast<size_t>(k) * lines;
      float* zi = bufI + static_cast<size_t>(k) * lines;
      for (int l = l0; l < l1; l++) {
        const size_t a = static_cast<size_t>(2 * l) * nxh + src;
        const float ar = specR[a];
        const float ai = realOnly ? 0.f : sign * specI[a];
        float br = 0.f, bi = 0.f;
        if (2 * l + 1 < ny) {
          br = specR[a + nxh];
          bi = realOnly ? 0.f : sign * specI[a + nxh];
        }
        zr[l] = ar - bi;
        zi[l] = ai + br;
      }
    }
  }
}

TFUS_CLONES void unpackRows(const float* bufR, const float* bufI, int nx, int ny, int lines, float scale, float* plane) {
  for (int l0 = 0; l0 < lines; l0 += kLineBlock) {
    const int l1 = std::min(lines, l0 + kLineBlock);
    for (int j = 0; j < nx; j++) {
      const float* sr = bufR + static_cast<size_t>(j) * lines;
      const float* si = bufI + static_cast<size_t>(j) * lines;
      for (int l = l0; l < l1; l++) {
        plane[static_cast<size_t>(2 * l) * nx + j] = scale * sr[l];
        if (2 * l + 1 < ny) plane[static_cast<size_t>(2 * l + 1) * nx + j] = scale * si[l];
      }
    }
  }
}

// Asks for the next block's z lines while this block is transformed: a block reads a few cache
// lines from each of nz planes a whole plane apart, a pattern the hardware prefetcher does not
// follow, so without this the gather waits on memory for most of its time (perf: 12 % of a
// transform pair at 128^3, more than the scatter that writes the same lines).
inline void prefetchLines(const float* a, const float* b, const float* c, size_t start, size_t planeStride, int nz, int count) {
  for (int z = 0; z < nz; z++) {
    const size_t base = start + z * planeStride;
    for (int x = 0; x < count; x += 16) {
      __builtin_prefetch(a + base + x);
      __builtin_prefetch(b + base + x);
      if (c) __builtin_prefetch(c + base + x);
    }
  }
}

TFUS_CLONES void gatherLines(const float* re, const float* im, size_t start, size_t planeStride, int nz, int count, float* bufR, float* bufI) {
  for (int z = 0; z < nz; z++) {
    const float* sr = re + start + z * planeStride;
    const float* si = im + start + z * planeStride;
    float* dr = bufR + static_cast<size_t>(z) * count;
    float* di = bufI + static_cast<size_t>(z) * count;
    for (int b = 0; b < count; b++) {
      dr[b] = sr[b];
      di[b] = si[b];
    }
  }
}

TFUS_CLONES void scatterLines(const float* bufR, const float* bufI, size_t start, size_t planeStride, int nz, int count, float* re, float* im) {
  for (int z = 0; z < nz; z++) {
    float* dr = re + start + z * planeStride;
    float* di = im + start + z * planeStride;
    const float* sr = bufR + static_cast<size_t>(z) * count;
    const float* si = bufI + static_cast<size_t>(z) * count;
    for (int b = 0; b < count; b++) {
      dr[b] = sr[b];
      di[b] = si[b];
    }
  }
}

// gatherLines with the spectral derivative applied on the way: w = dd_axis * kappa per point.
TFUS_CLONES void gatherDerivative(const float* re, const float* im, size_t start, size_t planeStride, int nz, int count, int axis, int x0, int y,
                                  const float* ddr, const float* ddi, const float* kappa, float* bufR, float* bufI) {
  for (int z = 0; z < nz; z++) {
    const size_t base = start + z * planeStride;
    const float* sr = re + base;
    const float* si = im + base;
    const float* k = kappa + base;
    float* dr = bufR + static_cast<size_t>(z) * count;
    float* di = bufI + static_cast<size_t>(z) * count;
    if (axis == 0) {
      const float* ar = ddr + x0;
      const float* ai = ddi + x0;
      for (int b = 0; b < count; b++) {
        const float wr = ar[b] * k[b], wi = ai[b] * k[b];
        dr[b] = sr[b] * wr - si[b] * wi;
        di[b] = sr[b] * wi + si[b] * wr;
      }
    } else {
      const int m = axis == 1 ? y : z;
      const float cr = ddr[m], ci = ddi[m];
      for (int b = 0; b < count; b++) {
        const float wr = cr * k[b], wi = ci * k[b];
        dr[b] = sr[b] * wr - si[b] * wi;
        di[b] = sr[b] * wi + si[b] * wr;
      }
    }
  }
}

// field := m (m field - c g) over one plane; div := g or += g.
TFUS_CLONES void updatePlane(const float* g, float* field, const float* m, const float* coef, float coefScalar, int axis, float* div, int nx, int ny, int z) {
  for (int j = 0; j < ny; j++) {
    const float* gr = g + static_cast<size_t>(j) * nx;
    float* f = field + static_cast<size_t>(j) * nx;
    const float* c = coef ? coef + static_cast<size_t>(j) * nx : nullptr;
    if (axis == 0) {
      if (c)
        for (int i = 0; i < nx; i++) f[i] = m[i] * (m[i] * f[i] - c[i] * gr[i]);
      else
        for (int i = 0; i < nx; i++) f[i] = m[i] * (m[i] * f[i] - coefScalar * gr[i]);
    } else {
      const float mi = m[axis == 1 ? j : z];
      if (c)
        for (int i = 0; i < nx; i++) f[i] = mi * (mi * f[i] - c[i] * gr[i]);
      else
        for (int i = 0; i < nx; i++) f[i] = mi * (mi * f[i] - coefScalar * gr[i]);
    }
    if (div) {
      float* d = div + static_cast<size_t>(j) * nx;
      if (axis == 0)
        for (int i = 0; i < nx; i++) d[i] = gr[i];
      else
        for (int i = 0; i < nx; i++) d[i] += gr[i];
    }
  }
}

}  // namespace

Fft3d::Fft3d(int nx, int ny, int nz)
    : nx_(nx), ny_(ny), nz_(nz), nxh_(nx / 2 + 1), lines_((ny + 1) / 2), px_(nx), py_(ny), pz_(nz) {
  // z lines are gathered in blocks of about 64 neighbouring kx (whole cache lines in every plane;
  // the TypeScript FFT measured 48..136 equally fast), split evenly so no block is a sliver.
  const int blocks = (nxh_ + 63) / 64;
  zBlock_ = (nxh_ + blocks - 1) / blocks;
  const size_t xs = static_cast<size_t>(nx_) * lines_;
  const size_t ps = static_cast<size_t>(nxh_) * ny_;
  const size_t zs = static_cast<size_t>(nz_) * zBlock_;
  for (auto* v : {&xr_, &xi_, &xwr_, &xwi_}) v->resize(xs);
  for (auto* v : {&pwr_, &pwi_}) v->resize(ps);
  for (auto* v : {&zr_, &zi_, &zwr_, &zwi_}) v->resize(zs);
  g_.resize(static_cast<size_t>(nx_) * ny_);
  zeros_.assign(nx_, 0.f);
  const int longest = std::max(nxh_, std::max(ny_, nz_));
  ddr_.resize(longest);
  ddi_.resize(longest);
}

void Fft3d::derivativeInverseZ(const float* specR, const float* specI, float* outR, float* outI, const double* dd, int axis, const float* kappa, int y0, int y1) {
  const int len = axis == 0 ? nxh_ : axis == 1 ? ny_ : nz_;
  for (int i = 0; i < len; i++) {
    ddr_[i] = static_cast<float>(dd[2 * i]);
    ddi_[i] = static_cast<float>(dd[2 * i + 1]);
  }
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  for (int y = y0; y < y1; y++)
    for (int x0 = 0; x0 < nxh_; x0 += zBlock_) {
      const int count = std::min(zBlock_, nxh_ - x0);
      const size_t start = x0 + static_cast<size_t>(nxh_) * y;
      gatherDerivative(specR, specI, start, specPlane, nz_, count, axis, x0, y, ddr_.data(), ddi_.data(), kappa, zr_.data(), zi_.data());
      const int nx0 = x0 + zBlock_ < nxh_ ? x0 + zBlock_ : 0;
      const int ny0 = nx0 ? y : y + 1;
      if (ny0 < y1) prefetchLines(specR, specI, kappa, nx0 + static_cast<size_t>(nxh_) * ny0, specPlane, nz_, std::min(zBlock_, nxh_ - nx0));
      pz_.inverseBatch(zr_.data(), zi_.data(), count, zwr_.data(), zwi_.data());
      scatterLines(zr_.data(), zi_.data(), start, specPlane, nz_, count, outR, outI);
    }
}

void Fft3d::inversePlane(float* re, float* im, int z, float* out) {
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  const float scale = static_cast<float>(1.0 / (static_cast<double>(nx_) * ny_ * nz_));
  float* sr = re + z * specPlane;
  float* si = im + z * specPlane;
  py_.inverseBatch(sr, si, nxh_, pwr_.data(), pwi_.data());
  packSpectra(sr, si, nx_, nxh_, ny_, lines_, xr_.data(), xi_.data());
  px_.inverseBatch(xr_.data(), xi_.data(), lines_, xwr_.data(), xwi_.data());
  unpackRows(xr_.data(), xi_.data(), nx_, ny_, lines_, scale, out);
}

void Fft3d::inverseXYUpdate(float* re, float* im, float* field, const float* m, const float* coef, float coefScalar, int axis, float* div, int z0, int z1) {
  const size_t plane = static_cast<size_t>(nx_) * ny_;
  for (int z = z0; z < z1; z++) {
    inversePlane(re, im, z, g_.data());
    updatePlane(g_.data(), field + z * plane, m, coef ? coef + z * plane : nullptr, coefScalar, axis, div ? div + z * plane : nullptr, nx_, ny_, z);
  }
}

void Fft3d::forwardXY(const float* src, float* re, float* im, int z0, int z1) {
  const size_t plane = static_cast<size_t>(nx_) * ny_;
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  for (int z = z0; z < z1; z++) {
    packRows(src + z * plane, nx_, ny_, lines_, xr_.data(), xi_.data(), zeros_.data());
    px_.forwardBatch(xr_.data(), xi_.data(), lines_, xwr_.data(), xwi_.data());
    float* sr = re + z * specPlane;
    float* si = im + z * specPlane;
    unpackSpectra(xr_.data(), xi_.data(), nx_, nxh_, ny_, lines_, sr, si);
    // In the spectrum plane the y lines already are in the batched layout, the kx as the batch.
    py_.forwardBatch(sr, si, nxh_, pwr_.data(), pwi_.data());
  }
}

void Fft3d::zStage(float* re, float* im, int y0, int y1, bool inverse) {
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  for (int y = y0; y < y1; y++)
    for (int x0 = 0; x0 < nxh_; x0 += zBlock_) {
      const int count = std::min(zBlock_, nxh_ - x0);
      const size_t start = x0 + static_cast<size_t>(nxh_) * y;
      gatherLines(re, im, start, specPlane, nz_, count, zr_.data(), zi_.data());
      const int nx0 = x0 + zBlock_ < nxh_ ? x0 + zBlock_ : 0;
      const int ny0 = nx0 ? y : y + 1;
      if (ny0 < y1) prefetchLines(re, im, nullptr, nx0 + static_cast<size_t>(nxh_) * ny0, specPlane, nz_, std::min(zBlock_, nxh_ - nx0));
      if (inverse)
        pz_.inverseBatch(zr_.data(), zi_.data(), count, zwr_.data(), zwi_.data());
      else
        pz_.forwardBatch(zr_.data(), zi_.data(), count, zwr_.data(), zwi_.data());
      scatterLines(zr_.data(), zi_.data(), start, specPlane, nz_, count, re, im);
    }
}

void Fft3d::forwardZ(float* re, float* im, int y0, int y1) { zStage(re, im, y0, y1, false); }

void Fft3d::inverseZ(float* re, float* im, int y0, int y1) { zStage(re, im, y0, y1, true); }

void Fft3d::inverseXY(float* re, float* im, float* dst, int z0, int z1) {
  const size_t plane = static_cast<size_t>(nx_) * ny_;
  for (int z = z0; z < z1; z++) inversePlane(re, im, z, dst + z * plane);
}

}  // namespace tfus
