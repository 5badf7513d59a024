/**
 * Bessel function of the first kind, order 1, for the O'Neil focal-plane profile.
 *
 * Rational approximation for |x| < 8 and the Hankel asymptotic form with fitted polynomial
 * corrections beyond, as in Numerical Recipes in C, 2nd ed., §6.5 `bessj1` (coefficients
 * from Hart et al., "Computer Approximations", 1968). Absolute error below ~1e-8 everywhere;
 * the unit test checks it against Bessel's integral to 1e-7.
 */
export function besselJ1(x: number): number {
  const ax = Math.abs(x)
  if (ax < 8) {
    const y = x * x
    const num = x * (72362614232.0 + y * (-7895059235.0 + y * (242396853.1 + y * (-2972611.439 + y * (15704.4826 + y * -30.16036606)))))
    const den = 144725228442.0 + y * (2300535178.0 + y * (18583304.74 + y * (99447.43394 + y * (376.9991397 + y))))
    return num / den
  }
  const z = 8 / ax
  const y = z * z
  // Phase of the large-argument form: x - 3 pi / 4.
  const xx = ax - 2.356194491
  const p = 1 + y * (0.183105e-2 + y * (-0.3516396496e-4 + y * (0.2457520174e-5 + y * -0.240337019e-6)))
  const q = 0.04687499995 + y * (-0.2002690873e-3 + y * (0.8449199096e-5 + y * (-0.88228987e-6 + y * 0.105787412e-6)))
  const ans = Math.sqrt(0.636619772 / ax) * (Math.cos(xx) * p - z * Math.sin(xx) * q)
  return x < 0 ? -ans : ans
}

/**
 * The Airy-type amplitude 2 J1(x) / x, with its limit 1 at x = 0. No small-x branch is
 * needed: for |x| < 8 besselJ1 is x times a ratio of polynomials in x^2, so the quotient
 * loses nothing; that ratio's constant term is 0.5 (1 + 1.5e-10), the size of the step at 0.
 */
export function jinc(x: number): number {
  return x === 0 ? 1 : (2 * besselJ1(x)) / x
}
