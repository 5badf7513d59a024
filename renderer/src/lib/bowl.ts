/**
 * The transducer drawn as its real radiating surface: a spherical cap (bowl, or the rings of an
 * annular array) or a flat disc, in transducer coordinates (origin at the apex = centre of the
 * rear surface, +z along the beam, metres; core/contracts/plan.ts), then placed with the plan's
 * pose (transducer -> patient RAS) and converted to LPS for the views.
 */
import { applyAffine, applyTransposedRotation, lpsToRas, type Vec3 } from '../../../core/math/index.ts'

export interface TransducerShape {
  readonly type: 'bowl' | 'annular' | 'disc'
  /** Radius of curvature [m]; null for a flat disc. */
  readonly rocM: number | null
  /** Outer aperture diameter [m]. */
  readonly apertureM: number
  /** Inner hole diameter [m]. */
  readonly innerApertureM: number
}

export interface Mesh {
  /** xyz triples. */
  readonly points: Float32Array
  /** vtk cell array: [3, a, b, c, 3, ...]. */
  readonly polys: Uint32Array
}

/**
 * Triangulated surface with `radial` rings and `around` segments. A point at aperture radius r
 * (m) on a bowl of radius of curvature R sits at z = R - sqrt(R^2 - r^2) from the apex.
 */
export function transducerMesh(shape: TransducerShape, radial = 12, around = 48): Mesh {
  const rOuter = shape.apertureM / 2
  const rInner = shape.innerApertureM / 2
  const R = shape.rocM
  const pts: number[] = []
  for (let i = 0; i <= radial; i++) {
    const r = rInner + ((rOuter - rInner) * i) / radial
    const z = R === null ? 0 : R - Math.sqrt(Math.max(0, R * R - r * r))
    for (let j = 0; j < around; j++) {
      const phi = (2 * Math.PI * j) / around
      pts.push(r * Math.cos(phi), r * Math.sin(phi), z)
    }
  }
  const polys: number[] = []
  for (let i = 0; i < radial; i++)
    for (let j = 0; j < around; j++) {
      const a = i * around + j
      const b = i * around + ((j + 1) % around)
      const c = (i + 1) * around + j
      const d = (i + 1) * around + ((j + 1) % around)
      polys.push(3, a, b, d, 3, a, d, c)
    }
  return { points: new Float32Array(pts), polys: new Uint32Array(polys) }
}

/** Applies a row-major 4x4 (transducer -> RAS, metres) and converts RAS to LPS, in place. */
export function placeMeshLps(mesh: Mesh, transducerToRas: readonly number[]): Mesh {
  const m = transducerToRas
  const p = mesh.points
  const out = new Float32Array(p.length)
  for (let i = 0; i < p.length; i += 3) {
    const x = p[i]!
    const y = p[i + 1]!
    const z = p[i + 2]!
    const rx = m[0]! * x + m[1]! * y + m[2]! * z + m[3]!
    const ry = m[4]! * x + m[5]! * y + m[6]! * z + m[7]!
    const rz = m[8]! * x + m[9]! * y + m[10]! * z + m[11]!
    out[i] = -rx
    out[i + 1] = -ry
    out[i + 2] = rz
  }
  return { points: out, polys: mesh.polys }
}

/**
 * The transducer as a slice view draws it (LPS millimetres): the cross-section of its radiating
 * surface in the plane through the beam axis that lies closest to the view's plane, and the beam
 * axis from the apex to `axisLengthM` along +z. `viewDirsLps` are the view's in-plane unit
 * vectors (right, up); the caller projects the segments onto the slice.
 */
export function transducerProfileLpsMm(
  shape: TransducerShape,
  transducerToRas: readonly number[],
  viewDirsLps: readonly Vec3[],
  axisLengthM: number,
  samples = 24,
): { surface: [Vec3, Vec3][]; axis: [Vec3, Vec3][] } {
  const m = transducerToRas
  // A direction in LPS into transducer coordinates: LPS -> RAS, then the transpose of the pose's rotation.
  const toTransducer = (d: Vec3): Vec3 => applyTransposedRotation(m, lpsToRas(d))
  // The view direction with the largest part across the beam (x-y in transducer coordinates) spans the section.
  let u: [number, number] = [1, 0]
  let best = -1
  for (const d of viewDirsLps) {
    const t = toTransducer(d)
    const n = Math.hypot(t[0], t[1])
    if (n > best) {
      best = n
      u = n > 1e-9 ? [t[0] / n, t[1] / n] : [1, 0]
    }
  }
  const toLpsMm = (p: Vec3): Vec3 => {
    const ras = applyAffine(m, p)
    return [-ras[0] * 1000, -ras[1] * 1000, ras[2] * 1000]
  }
  const R = shape.rocM
  const z = (r: number) => (R === null ? 0 : R - Math.sqrt(Math.max(0, R * R - r * r)))
  const rOuter = shape.apertureM / 2
  const rInner = shape.innerApertureM / 2
  const surface: [Vec3, Vec3][] = []
  // Both halves of the section, from the inner edge (or the apex) to the rim.
  for (const side of [1, -1]) {
    let prev: Vec3 | null = null
    for (let i = 0; i <= samples; i++) {
      const r = rInner + ((rOuter - rInner) * i) / samples
      const p = toLpsMm([side * r * u[0], side * r * u[1], z(r)])
      if (prev) surface.push([prev, p])
      prev = p
    }
  }
  const axis: [Vec3, Vec3][] = [[toLpsMm([0, 0, 0]), toLpsMm([0, 0, axisLengthM])]]
  return { surface, axis }
}
