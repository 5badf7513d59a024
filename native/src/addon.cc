// Node-API binding of the native CPU kernels (electron/adapters/native-kernels.ts wraps it).
// Node-API is ABI-stable: the same build loads in Node and in Electron, and in worker threads.
// Every argument is checked here (types, lengths, ranges) before a pointer is touched, and a bad one
// throws a TypeError or RangeError: the kernels themselves trust their inputs.
#include <node_api.h>

#include <cstdint>
#include <new>
#include <string>

#include "fft3d.h"
#include "pointwise.h"

namespace {

bool throwIf(napi_env env, bool bad, const char* message, bool range = false) {
  if (!bad) return false;
  if (range)
    napi_throw_range_error(env, nullptr, message);
  else
    napi_throw_type_error(env, nullptr, message);
  return true;
}

bool getInt(napi_env env, napi_value v, int32_t* out, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (throwIf(env, t != napi_number, what)) return false;
  napi_get_value_int32(env, v, out);
  return true;
}

// A typed array of the given element type (over an ArrayBuffer or a SharedArrayBuffer) with at
// least `minLength` elements.
template <typename T, napi_typedarray_type Kind>
bool getTyped(napi_env env, napi_value v, size_t minLength, T** data, const char* what) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (throwIf(env, !isTyped, what)) return false;
  napi_typedarray_type type;
  size_t length = 0;
  void* raw = nullptr;
  napi_get_typedarray_info(env, v, &type, &length, &raw, nullptr, nullptr);
  if (throwIf(env, type != Kind, what)) return false;
  if (throwIf(env, length < minLength, what, true)) return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool getFloats(napi_env env, napi_value v, size_t minLength, float** data, const char* what) {
  return getTyped<float, napi_float32_array>(env, v, minLength, data, what);
}

bool getDoubles(napi_env env, napi_value v, size_t minLength, double** data, const char* what) {
  return getTyped<double, napi_float64_array>(env, v, minLength, data, what);
}

bool isNull(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

// A medium property: a number, or a Float32Array with one value per grid point.
bool getField(napi_env env, napi_value v, size_t length, tfus::GridField* out, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_number) {
    double x;
    napi_get_value_double(env, v, &x);
    *out = {nullptr, static_cast<float>(x)};
    return true;
  }
  float* a = nullptr;
  if (!getFloats(env, v, length, &a, what)) return false;
  *out = {a, 0.f};
  return true;
}

bool getInts(napi_env env, const napi_value* argv, int count, int32_t* out, const char* what) {
  for (int i = 0; i < count; i++)
    if (!getInt(env, argv[i], &out[i], what)) return false;
  return true;
}

tfus::Fft3d* getFft(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == nullptr) {
    napi_throw_type_error(env, nullptr, "expected a native FFT handle");
    return nullptr;
  }
  return static_cast<tfus::Fft3d*>(p);
}

napi_value fft3dCreate(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n[3];
  for (int i = 0; i < 3; i++) {
    if (argc <= static_cast<size_t>(i) || !getInt(env, argv[i], &n[i], "fft3dCreate(nx, ny, nz): sizes must be numbers")) return nullptr;
    if (throwIf(env, n[i] < 1 || n[i] > (1 << 16) || !tfus::fftFriendly(n[i]), "fft3dCreate: each size must be 1..65536 with prime factors 2, 3, 5, 7", true)) return nullptr;
  }
  tfus::Fft3d* fft = nullptr;
  try {
    fft = new tfus::Fft3d(n[0], n[1], n[2]);
  } catch (const std::bad_alloc&) {
    napi_throw_range_error(env, nullptr, "fft3dCreate: out of memory for the FFT scratch");
    return nullptr;
  }
  napi_value out;
  napi_create_external(
      env, fft, [](napi_env, void* data, void*) { delete static_cast<tfus::Fft3d*>(data); }, nullptr, &out);
  return out;
}

enum class Stage { ForwardXY, ForwardZ, InverseZ, InverseXY };

// (handle, [src,] re, im, [dst,] from, to): the stage over planes [from, to) (xy) or rows (z).
template <Stage S>
napi_value fft3dStage(napi_env env, napi_callback_info info) {
  constexpr bool xy = S == Stage::ForwardXY || S == Stage::InverseXY;
  constexpr size_t arrays = xy ? 3 : 2;
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (throwIf(env, argc < arrays + 3, "fft3d stage: too few arguments")) return nullptr;
  tfus::Fft3d* fft = getFft(env, argv[0]);
  if (!fft) return nullptr;
  const size_t real = static_cast<size_t>(fft->nx()) * fft->ny() * fft->nz();
  const size_t spectrum = static_cast<size_t>(fft->nxh()) * fft->ny() * fft->nz();
  float* a[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < arrays; i++) {
    // forwardXY: src (real), re, im; inverseXY: re, im, dst (real); z stages: re, im.
    const bool isReal = (S == Stage::ForwardXY && i == 0) || (S == Stage::InverseXY && i == 2);
    if (!getFloats(env, argv[1 + i], isReal ? real : spectrum, &a[i], "fft3d stage: arrays must be Float32Arrays of the grid's sizes")) return nullptr;
  }
  int32_t from, to;
  if (!getInt(env, argv[1 + arrays], &from, "fft3d stage: range must be numbers") || !getInt(env, argv[2 + arrays], &to, "fft3d stage: range must be numbers")) return nullptr;
  const int limit = xy ? fft->nz() : fft->ny();
  if (throwIf(env, from < 0 || to > limit || from > to, "fft3d stage: range outside the grid", true)) return nullptr;
  switch (S) {
    case Stage::ForwardXY:
      fft->forwardXY(a[0], a[1], a[2], from, to);
      break;
    case Stage::ForwardZ:
      fft->forwardZ(a[0], a[1], from, to);
      break;
    case Stage::InverseZ:
      fft->inverseZ(a[0], a[1], from, to);
      break;
    case Stage::InverseXY:
      fft->inverseXY(a[0], a[1], a[2], from, to);
      break;
  }
  return nullptr;
}

// (handle, specRe, specIm, outRe, outIm, dd, axis, kappa, y0, y1)
napi_value fft3dDerivativeInverseZ(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (throwIf(env, argc < 10, "derivativeInverseZ: too few arguments")) return nullptr;
  tfus::Fft3d* fft = getFft(env, argv[0]);
  if (!fft) return nullptr;
  const size_t spectrum = static_cast<size_t>(fft->nxh()) * fft->ny() * fft->nz();
  float* a[4];
  for (int i = 0; i < 4; i++)
    if (!getFloats(env, argv[1 + i], spectrum, &a[i], "derivativeInverseZ: spectra must be Float32Arrays of the spectrum's size")) return nullptr;
  int32_t axis, y0, y1;
  if (!getInt(env, argv[6], &axis, "derivativeInverseZ: axis must be a number")) return nullptr;
  if (throwIf(env, axis < 0 || axis > 2, "derivativeInverseZ: axis must be 0, 1 or 2", true)) return nullptr;
  const int len = axis == 0 ? fft->nxh() : axis == 1 ? fft->ny() : fft->nz();
  double* dd;
  float* kappa;
  if (!getDoubles(env, argv[5], 2 * static_cast<size_t>(len), &dd, "derivativeInverseZ: dd must be a Float64Array (re, im per index)")) return nullptr;
  if (!getFloats(env, argv[7], spectrum, &kappa, "derivativeInverseZ: kappa must be a Float32Array of the spectrum's size")) return nullptr;
  if (!getInt(env, argv[8], &y0, "derivativeInverseZ: range must be numbers") || !getInt(env, argv[9], &y1, "derivativeInverseZ: range must be numbers")) return nullptr;
  if (throwIf(env, y0 < 0 || y1 > fft->ny() || y0 > y1, "derivativeInverseZ: range outside the grid", true)) return nullptr;
  fft->derivativeInverseZ(a[0], a[1], a[2], a[3], dd, axis, kappa, y0, y1);
  return nullptr;
}

// (handle, re, im, field, m, coef, axis, div | null, z0, z1)
napi_value fft3dInverseXYUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (throwIf(env, argc < 10, "inverseXYUpdate: too few arguments")) return nullptr;
  tfus::Fft3d* fft = getFft(env, argv[0]);
  if (!fft) return nullptr;
  const size_t real = static_cast<size_t>(fft->nx()) * fft->ny() * fft->nz();
  const size_t spectrum = static_cast<size_t>(fft->nxh()) * fft->ny() * fft->nz();
  float *re, *im, *field, *m, *div = nullptr;
  if (!getFloats(env, argv[1], spectrum, &re, "inverseXYUpdate: spectra must be Float32Arrays of the spectrum's size")) return nullptr;
  if (!getFloats(env, argv[2], spectrum, &im, "inverseXYUpdate: spectra must be Float32Arrays of the spectrum's size")) return nullptr;
  if (!getFloats(env, argv[3], real, &field, "inverseXYUpdate: field must be a Float32Array of the grid's size")) return nullptr;
  int32_t axis, z0, z1;
  if (!getInt(env, argv[6], &axis, "inverseXYUpdate: axis must be a number")) return nullptr;
  if (throwIf(env, axis < 0 || axis > 2, "inverseXYUpdate: axis must be 0, 1 or 2", true)) return nullptr;
  const int len = axis == 0 ? fft->nx() : axis == 1 ? fft->ny() : fft->nz();
  if (!getFloats(env, argv[4], len, &m, "inverseXYUpdate: m must be a Float32Array along the axis")) return nullptr;
  tfus::GridField coef;
  if (!getField(env, argv[5], real, &coef, "inverseXYUpdate: coef must be a number or a Float32Array of the grid's size")) return nullptr;
  if (!isNull(env, argv[7]) && !getFloats(env, argv[7], real, &div, "inverseXYUpdate: div must be null or a Float32Array of the grid's size")) return nullptr;
  if (!getInt(env, argv[8], &z0, "inverseXYUpdate: range must be numbers") || !getInt(env, argv[9], &z1, "inverseXYUpdate: range must be numbers")) return nullptr;
  if (throwIf(env, z0 < 0 || z1 > fft->nz() || z0 > z1, "inverseXYUpdate: range outside the grid", true)) return nullptr;
  fft->inverseXYUpdate(re, im, field, m, coef.array, coef.scalar, axis, div, z0, z1);
  return nullptr;
}

// (p, rx, ry, rz, c0sq, tauRho0, div | null, from, to)
napi_value pressure(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (throwIf(env, argc < 9, "pressure: too few arguments")) return nullptr;
  int32_t from, to;
  if (!getInt(env, argv[7], &from, "pressure: range must be numbers") || !getInt(env, argv[8], &to, "pressure: range must be numbers")) return nullptr;
  if (throwIf(env, from < 0 || from > to, "pressure: bad range", true)) return nullptr;
  const size_t n = static_cast<size_t>(to);
  float* a[4];
  for (int i = 0; i < 4; i++)
    if (!getFloats(env, argv[i], n, &a[i], "pressure: p and rho must be Float32Arrays covering the range")) return nullptr;
  tfus::GridField f[2];
  for (int i = 0; i < 2; i++)
    if (!getField(env, argv[4 + i], n, &f[i], "pressure: medium fields must be numbers or Float32Arrays covering the range")) return nullptr;
  float* div = nullptr;
  if (!isNull(env, argv[6]) && !getFloats(env, argv[6], n, &div, "pressure: div must be null or a Float32Array covering the range")) return nullptr;
  tfus::pressure(a[0], a[1], a[2], a[3], f[0], f[1], div, static_cast<size_t>(from), n);
  return nullptr;
}

// (p, sumCos, sumSin, nx, ny, sx, sy, sz, ux, uy, uz0, uz1, c, s)
napi_value accumulate(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (throwIf(env, argc < 14, "accumulate: too few arguments")) return nullptr;
  int32_t v[9];
  if (!getInts(env, argv + 3, 9, v, "accumulate: sizes must be numbers")) return nullptr;
  const int nx = v[0], ny = v[1], sx = v[2], sy = v[3], sz = v[4], ux = v[5], uy = v[6], uz0 = v[7], uz1 = v[8];
  if (throwIf(env, nx < 1 || ny < 1 || sx < 0 || sy < 0 || sz < 0 || ux < 0 || uy < 0 || uz0 < 0 || uz1 < uz0 || sx + ux > nx || sy + uy > ny, "accumulate: sub-grid outside the grid", true))
    return nullptr;
  float* p;
  double *sc, *ss;
  const size_t gridNeeded = static_cast<size_t>(nx) * ny * (sz + static_cast<size_t>(uz1));
  const size_t userNeeded = static_cast<size_t>(ux) * uy * uz1;
  if (!getFloats(env, argv[0], gridNeeded, &p, "accumulate: p must be a Float32Array covering the sub-grid")) return nullptr;
  if (!getDoubles(env, argv[1], userNeeded, &sc, "accumulate: sums must be Float64Arrays of the sub-grid's size")) return nullptr;
  if (!getDoubles(env, argv[2], userNeeded, &ss, "accumulate: sums must be Float64Arrays of the sub-grid's size")) return nullptr;
  double c, s;
  napi_get_value_double(env, argv[12], &c);
  napi_get_value_double(env, argv[13], &s);
  tfus::accumulate(p, sc, ss, nx, ny, sx, sy, sz, ux, uy, uz0, uz1, c, s);
  return nullptr;
}

// Which instruction set the kernels run with on this CPU (the clone the loader picked).
napi_value simdLevel(napi_env env, napi_callback_info) {
  std::string level = "baseline";
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v3")) level = "avx2";
  else level = "sse2";
#elif defined(__aarch64__)
  level = "neon";
#endif
  napi_value out;
  napi_create_string_utf8(env, level.c_str(), level.size(), &out);
  return out;
}

napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"fft3dCreate", nullptr, fft3dCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dForwardXY", nullptr, fft3dStage<Stage::ForwardXY>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dForwardZ", nullptr, fft3dStage<Stage::ForwardZ>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dInverseZ", nullptr, fft3dStage<Stage::InverseZ>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dInverseXY", nullptr, fft3dStage<Stage::InverseXY>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dDerivativeInverseZ", nullptr, fft3dDerivativeInverseZ, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fft3dInverseXYUpdate", nullptr, fft3dInverseXYUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pressure", nullptr, pressure, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"accumulate", nullptr, accumulate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"simdLevel", nullptr, simdLevel, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return init(env, exports); }
