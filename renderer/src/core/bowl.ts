/**
 * The transducer drawn as its real radiating surface: a spherical cap (bowl, or the rings of an
 * annular array) or a flat disc, in transducer coordinates (origin at the apex = centre of the
 * rear surface, +z along the beam, metres; core/contracts/plan.ts), then placed with the plan's
 * pose (transducer -> patient RAS) and converted to LPS for the views.
 */
import type { Vec3 } from './orientation.ts'

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

/** RAS point of transducer coordinates under a pose. */
export function applyPose(m: readonly number[], p: Vec3): Vec3 {
  return [m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!, m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!, m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!]
}
