/**
 * Analytic reference fields for validating the acoustic solver (docs/physics.md §2, §3, §6.1).
 */

// Namespaced: short helper names (sin, exp, abs) would clash with consumers' own imports.
export type { Complex } from './complex.ts'
export * as cx from './complex.ts'
export * from './units.ts'
export * from './bessel.ts'
export * from './oneil.ts'
export * from './rayleigh.ts'
export * from './layer.ts'
