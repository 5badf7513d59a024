#include "fft3d.h"

#include <algorithm>

#include "simd.h"

namespace tfus {

namespace {

// Two real rows a and b as one complex row a + i b, transposed into the batched layout
// (element j of line l at j * lines + l). A missing last row (odd ny) is zero.
TFUS_CLONES void packRows(const float* plane, int nx, int ny, int lines, float* bufR, float* bufI) {
  for (int l = 0; l < lines; l++) {
    const float* a = plane + static_cast<size_t>(2 * l) * nx;
    const float* b = 2 * l + 1 < ny ? a + nx : nullptr;
    for (int j = 0; j < nx; j++) bufR[j * lines + l] = a[j];
    if (b)
      for (int j = 0; j < nx; j++) bufI[j * lines + l] = b[j];
    else
      for (int j = 0; j < nx; j++) bufI[j * lines + l] = 0.f;
  }
}

// Separates the transforms of the two packed rows: with Z = DFT(a + i b) and W[k] = Z[(nx - k) % nx],
// A[k] = (Z[k] + conj W[k]) / 2 and B[k] = (Z[k] - conj W[k]) / (2 i).
TFUS_CLONES void unpackSpectra(const float* bufR, const float* bufI, int nx, int nxh, int ny, int lines, float* specR, float* specI) {
  for (int k = 0; k < nxh; k++) {
    const int nk = (nx - k) % nx;
    const float* zr = bufR + k * lines;
    const float* zi = bufI + k * lines;
    const float* wr = bufR + nk * lines;
    const float* wi = bufI + nk * lines;
    for (int l = 0; l < lines; l++) {
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

// The inverse of unpackSpectra: Z = A + i B over the full kx range, A and B extended by Hermitian
// symmetry; the imaginary parts at kx = 0 and kx = nx / 2 are dropped (NumPy irfftn).
TFUS_CLONES void packSpectra(const float* specR, const float* specI, int nx, int nxh, int ny, int lines, float* bufR, float* bufI) {
  for (int k = 0; k < nx; k++) {
    const bool mirrored = k >= nxh;
    const int src = mirrored ? nx - k : k;
    const float sign = mirrored ? -1.f : 1.f;
    const bool realOnly = k == 0 || 2 * k == nx;
    float* zr = bufR + k * lines;
    float* zi = bufI + k * lines;
    for (int l = 0; l < lines; l++) {
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

TFUS_CLONES void unpackRows(const float* bufR, const float* bufI, int nx, int ny, int lines, float scale, float* plane) {
  for (int l = 0; l < lines; l++) {
    float* a = plane + static_cast<size_t>(2 * l) * nx;
    for (int j = 0; j < nx; j++) a[j] = scale * bufR[j * lines + l];
    if (2 * l + 1 < ny) {
      float* b = a + nx;
      for (int j = 0; j < nx; j++) b[j] = scale * bufI[j * lines + l];
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
      pz_.inverseBatch(zr_.data(), zi_.data(), count, zwr_.data(), zwi_.data());
      scatterLines(zr_.data(), zi_.data(), start, specPlane, nz_, count, outR, outI);
    }
}

void Fft3d::inverseXYUpdate(float* re, float* im, float* field, const float* m, const float* coef, float coefScalar, int axis, float* div, int z0, int z1) {
  const size_t plane = static_cast<size_t>(nx_) * ny_;
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  const float scale = static_cast<float>(1.0 / (static_cast<double>(nx_) * ny_ * nz_));
  for (int z = z0; z < z1; z++) {
    float* sr = re + z * specPlane;
    float* si = im + z * specPlane;
    py_.inverseBatch(sr, si, nxh_, pwr_.data(), pwi_.data());
    packSpectra(sr, si, nx_, nxh_, ny_, lines_, xr_.data(), xi_.data());
    px_.inverseBatch(xr_.data(), xi_.data(), lines_, xwr_.data(), xwi_.data());
    unpackRows(xr_.data(), xi_.data(), nx_, ny_, lines_, scale, g_.data());
    updatePlane(g_.data(), field + z * plane, m, coef ? coef + z * plane : nullptr, coefScalar, axis, div ? div + z * plane : nullptr, nx_, ny_, z);
  }
}

void Fft3d::forwardXY(const float* src, float* re, float* im, int z0, int z1) {
  const size_t plane = static_cast<size_t>(nx_) * ny_;
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  for (int z = z0; z < z1; z++) {
    packRows(src + z * plane, nx_, ny_, lines_, xr_.data(), xi_.data());
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
  const size_t specPlane = static_cast<size_t>(nxh_) * ny_;
  const float scale = static_cast<float>(1.0 / (static_cast<double>(nx_) * ny_ * nz_));
  for (int z = z0; z < z1; z++) {
    float* sr = re + z * specPlane;
    float* si = im + z * specPlane;
    py_.inverseBatch(sr, si, nxh_, pwr_.data(), pwi_.data());
    packSpectra(sr, si, nx_, nxh_, ny_, lines_, xr_.data(), xi_.data());
    px_.inverseBatch(xr_.data(), xi_.data(), lines_, xwr_.data(), xwi_.data());
    unpackRows(xr_.data(), xi_.data(), nx_, ny_, lines_, scale, dst + z * plane);
  }
}

}  // namespace tfus
