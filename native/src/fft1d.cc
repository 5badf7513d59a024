#include "fft1d.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "simd.h"

namespace tfus {

bool fftFriendly(int n) {
  if (n < 1) return false;
  for (int p : {2, 3, 5, 7})
    while (n % p == 0) n /= p;
  return n == 1;
}

namespace {

// Radix order: 4s first (fewest passes), then 7, 5, 3, and a lone 2 last. Unlike V8 (plan.ts),
// compiled code pays little for a twiddled stage, so no radix 6/8/9 combinations are needed.
std::vector<int> chooseRadices(int n) {
  std::vector<int> r;
  int m = n;
  int twos = 0;
  while (m % 2 == 0) {
    m /= 2;
    twos++;
  }
  for (int i = 0; i < twos / 2; i++) r.push_back(4);
  for (int p : {7, 5, 3})
    while (m % p == 0) {
      m /= p;
      r.push_back(p);
    }
  if (twos % 2 == 1) r.push_back(2);
  return r;
}

// One Stockham stage over a batch: `run` = stride * batch contiguous floats per (p, t).
// Input x[(p + t m) run + i], output y[(R p + u) run + i], output u multiplied by W_len^(p u).
// `#pragma GCC ivdep`: the last stage may run in place (same index set in and out), which is
// safe because each i reads all its inputs before writing, and different i never overlap.
TFUS_INLINE void radix2(const float* xr, const float* xi, float* yr, float* yi, int m, int run, const float* twr, const float* twi) {
  for (int p = 0; p < m; p++) {
    const float* a0r = xr + p * run;
    const float* a0i = xi + p * run;
    const float* a1r = xr + (p + m) * run;
    const float* a1i = xi + (p + m) * run;
    float* c0r = yr + (2 * p) * run;
    float* c0i = yi + (2 * p) * run;
    float* c1r = yr + (2 * p + 1) * run;
    float* c1i = yi + (2 * p + 1) * run;
    if (p == 0) {
#pragma GCC ivdep
      for (int i = 0; i < run; i++) {
        float ar = a0r[i], ai = a0i[i], br = a1r[i], bi = a1i[i];
        c0r[i] = ar + br;
        c0i[i] = ai + bi;
        c1r[i] = ar - br;
        c1i[i] = ai - bi;
      }
    } else {
      const float wr = twr[p], wi = twi[p];
#pragma GCC ivdep
      for (int i = 0; i < run; i++) {
        float ar = a0r[i], ai = a0i[i], br = a1r[i], bi = a1i[i];
        float dr = ar - br, di = ai - bi;
        c0r[i] = ar + br;
        c0i[i] = ai + bi;
        c1r[i] = dr * wr - di * wi;
        c1i[i] = dr * wi + di * wr;
      }
    }
  }
}

TFUS_INLINE void radix4(const float* xr, const float* xi, float* yr, float* yi, int m, int run, const float* twr, const float* twi) {
  for (int p = 0; p < m; p++) {
    const float* a0r = xr + p * run;
    const float* a0i = xi + p * run;
    const float* a1r = xr + (p + m) * run;
    const float* a1i = xi + (p + m) * run;
    const float* a2r = xr + (p + 2 * m) * run;
    const float* a2i = xi + (p + 2 * m) * run;
    const float* a3r = xr + (p + 3 * m) * run;
    const float* a3i = xi + (p + 3 * m) * run;
    float* c0r = yr + (4 * p) * run;
    float* c0i = yi + (4 * p) * run;
    float* c1r = yr + (4 * p + 1) * run;
    float* c1i = yi + (4 * p + 1) * run;
    float* c2r = yr + (4 * p + 2) * run;
    float* c2i = yi + (4 * p + 2) * run;
    float* c3r = yr + (4 * p + 3) * run;
    float* c3i = yi + (4 * p + 3) * run;
    const float w1r = p ? twr[3 * p] : 1.f, w1i = p ? twi[3 * p] : 0.f;
    const float w2r = p ? twr[3 * p + 1] : 1.f, w2i = p ? twi[3 * p + 1] : 0.f;
    const float w3r = p ? twr[3 * p + 2] : 1.f, w3i = p ? twi[3 * p + 2] : 0.f;
    if (p == 0) {
#pragma GCC ivdep
      for (int i = 0; i < run; i++) {
        float t0r = a0r[i] + a2r[i], t0i = a0i[i] + a2i[i];
        float t1r = a0r[i] - a2r[i], t1i = a0i[i] - a2i[i];
        float t2r = a1r[i] + a3r[i], t2i = a1i[i] + a3i[i];
        float t3r = a1r[i] - a3r[i], t3i = a1i[i] - a3i[i];
        c0r[i] = t0r + t2r;
        c0i[i] = t0i + t2i;
        c2r[i] = t0r - t2r;
        c2i[i] = t0i - t2i;
        // c1 = t1 - i t3, c3 = t1 + i t3 (forward: exp(-2 pi i / 4) = -i).
        c1r[i] = t1r + t3i;
        c1i[i] = t1i - t3r;
        c3r[i] = t1r - t3i;
        c3i[i] = t1i + t3r;
      }
    } else {
#pragma GCC ivdep
      for (int i = 0; i < run; i++) {
        float t0r = a0r[i] + a2r[i], t0i = a0i[i] + a2i[i];
        float t1r = a0r[i] - a2r[i], t1i = a0i[i] - a2i[i];
        float t2r = a1r[i] + a3r[i], t2i = a1i[i] + a3i[i];
        float t3r = a1r[i] - a3r[i], t3i = a1i[i] - a3i[i];
        c0r[i] = t0r + t2r;
        c0i[i] = t0i + t2i;
        float br = t0r - t2r, bi = t0i - t2i;
        c2r[i] = br * w2r - bi * w2i;
        c2i[i] = br * w2i + bi * w2r;
        float ar = t1r + t3i, ai = t1i - t3r;
        c1r[i] = ar * w1r - ai * w1i;
        c1i[i] = ar * w1i + ai * w1r;
        float cr = t1r - t3i, ci = t1i + t3r;
        c3r[i] = cr * w3r - ci * w3i;
        c3i[i] = cr * w3i + ci * w3r;
      }
    }
  }
}

// Odd prime radix R (3, 5, 7): pairs s_t = a_t + a_(R-t), d_t = a_t - a_(R-t); with
// x_u = a_0 + sum_t cos(2 pi t u / R) s_t and y_u = sum_t sin(2 pi t u / R) d_t,
// c_u = x_u - i y_u and c_(R-u) = x_u + i y_u.
template <int R>
TFUS_INLINE void radixOdd(const float* xr, const float* xi, float* yr, float* yi, int m, int run, const float* twr, const float* twi) {
  constexpr int H = (R - 1) / 2;
  float cs[H][H], sn[H][H];
  for (int u = 1; u <= H; u++)
    for (int t = 1; t <= H; t++) {
      const double angle = 2.0 * M_PI * ((t * u) % R) / R;
      cs[u - 1][t - 1] = static_cast<float>(std::cos(angle));
      sn[u - 1][t - 1] = static_cast<float>(std::sin(angle));
    }
  for (int p = 0; p < m; p++) {
    const float* ar[R];
    const float* ai[R];
    float* cr[R];
    float* ci[R];
    float wr[R], wi[R];
    for (int t = 0; t < R; t++) {
      ar[t] = xr + (p + t * m) * run;
      ai[t] = xi + (p + t * m) * run;
      cr[t] = yr + (R * p + t) * run;
      ci[t] = yi + (R * p + t) * run;
      wr[t] = (p && t) ? twr[(R - 1) * p + t - 1] : 1.f;
      wi[t] = (p && t) ? twi[(R - 1) * p + t - 1] : 0.f;
    }
#pragma GCC ivdep
    for (int i = 0; i < run; i++) {
      float sr[H], si[H], dr[H], di[H];
      const float a0r = ar[0][i], a0i = ai[0][i];
      float sumr = a0r, sumi = a0i;
#pragma GCC unroll 4
      for (int t = 1; t <= H; t++) {
        const float pr = ar[t][i], pi = ai[t][i], qr = ar[R - t][i], qi = ai[R - t][i];
        sr[t - 1] = pr + qr;
        si[t - 1] = pi + qi;
        dr[t - 1] = pr - qr;
        di[t - 1] = pi - qi;
        sumr += sr[t - 1];
        sumi += si[t - 1];
      }
      cr[0][i] = sumr;
      ci[0][i] = sumi;
#pragma GCC unroll 4
      for (int u = 1; u <= H; u++) {
        float xr_ = a0r, xi_ = a0i, yr_ = 0.f, yi_ = 0.f;
#pragma GCC unroll 4
        for (int t = 0; t < H; t++) {
          xr_ += cs[u - 1][t] * sr[t];
          xi_ += cs[u - 1][t] * si[t];
          yr_ += sn[u - 1][t] * dr[t];
          yi_ += sn[u - 1][t] * di[t];
        }
        const float pr = xr_ + yi_, pi = xi_ - yr_;  // c_u
        const float qr = xr_ - yi_, qi = xi_ + yr_;  // c_(R-u)
        cr[u][i] = pr * wr[u] - pi * wi[u];
        ci[u][i] = pr * wi[u] + pi * wr[u];
        cr[R - u][i] = qr * wr[R - u] - qi * wi[R - u];
        ci[R - u][i] = qr * wi[R - u] + qi * wr[R - u];
      }
    }
  }
}

struct StageView {
  int radix;
  int m;
  const float* twr;
  const float* twi;
};

TFUS_CLONES void runStages(const StageView* stages, int count, int n, float* re, float* im, int batch, float* workRe, float* workIm) {
  float* curR = re;
  float* curI = im;
  int stride = 1;
  for (int k = 0; k < count; k++) {
    const StageView& s = stages[k];
    // Every stage but the last ping-pongs; the last writes the caller's arrays (in place when
    // the data is already there), so the result never needs a copy.
    const bool last = k == count - 1;
    float* outR = last ? re : (curR == re ? workRe : re);
    float* outI = last ? im : (curI == im ? workIm : im);
    const int run = stride * batch;
    switch (s.radix) {
      case 2:
        radix2(curR, curI, outR, outI, s.m, run, s.twr, s.twi);
        break;
      case 3:
        radixOdd<3>(curR, curI, outR, outI, s.m, run, s.twr, s.twi);
        break;
      case 4:
        radix4(curR, curI, outR, outI, s.m, run, s.twr, s.twi);
        break;
      case 5:
        radixOdd<5>(curR, curI, outR, outI, s.m, run, s.twr, s.twi);
        break;
      case 7:
        radixOdd<7>(curR, curI, outR, outI, s.m, run, s.twr, s.twi);
        break;
    }
    curR = outR;
    curI = outI;
    stride *= s.radix;
  }
  (void)n;
}

}  // namespace

Plan1d::Plan1d(int n) : n_(n), radices_(chooseRadices(n)) {
  if (!fftFriendly(n)) throw std::invalid_argument("FFT length " + std::to_string(n) + " has a prime factor above 7");
  int len = n;
  for (int r : radices_) {
    const int m = len / r;
    std::vector<float> wr(static_cast<size_t>(m) * (r - 1)), wi(wr.size());
    for (int p = 0; p < m; p++)
      for (int u = 1; u < r; u++) {
        // Exact integer angle reduced mod len, evaluated in double (no recurrences).
        const double angle = -2.0 * M_PI * static_cast<double>((static_cast<long long>(p) * u) % len) / len;
        wr[p * (r - 1) + u - 1] = static_cast<float>(std::cos(angle));
        wi[p * (r - 1) + u - 1] = static_cast<float>(std::sin(angle));
      }
    twRe_.push_back(std::move(wr));
    twIm_.push_back(std::move(wi));
    len = m;
  }
}

void Plan1d::forwardBatch(float* re, float* im, int batch, float* workRe, float* workIm) const {
  if (radices_.empty()) return;  // n = 1
  StageView views[64];
  int len = n_;
  for (size_t k = 0; k < radices_.size(); k++) {
    const int r = radices_[k];
    views[k] = {r, len / r, twRe_[k].data(), twIm_[k].data()};
    len /= r;
  }
  runStages(views, static_cast<int>(radices_.size()), n_, re, im, batch, workRe, workIm);
}

}  // namespace tfus
