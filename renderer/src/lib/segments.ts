/** Line segments for crosshairs and markers in the slice views (LPS millimetres), without vtk.js. */
import { addScaled3, type Vec3 } from '../../../core/math/index.ts'

export type Segments = readonly (readonly [Vec3, Vec3])[]

/** A circle of radius r around p in the plane spanned by unit vectors u and v. */
export function circleSegments(p: Vec3, u: Vec3, v: Vec3, r: number, n = 32): [Vec3, Vec3][] {
  const out: [Vec3, Vec3][] = []
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n
    const b = (2 * Math.PI * (i + 1)) / n
    out.push([addScaled3(addScaled3(p, u, r * Math.cos(a)), v, r * Math.sin(a)), addScaled3(addScaled3(p, u, r * Math.cos(b)), v, r * Math.sin(b))])
  }
  return out
}

/** Crosshair through p along u and v, with a gap of `gap` around p so the point itself stays visible. */
export function crosshairSegments(p: Vec3, u: Vec3, v: Vec3, half: number, gap: number): [Vec3, Vec3][] {
  return [
    [addScaled3(p, u, gap), addScaled3(p, u, half)],
    [addScaled3(p, u, -gap), addScaled3(p, u, -half)],
    [addScaled3(p, v, gap), addScaled3(p, v, half)],
    [addScaled3(p, v, -gap), addScaled3(p, v, -half)],
  ]
}

/** Projects p onto the plane through `origin` with unit normal n. */
export function projectOntoPlane(p: Vec3, origin: Vec3, n: Vec3): Vec3 {
  const d = (p[0] - origin[0]) * n[0] + (p[1] - origin[1]) * n[1] + (p[2] - origin[2]) * n[2]
  return [p[0] - d * n[0], p[1] - d * n[1], p[2] - d * n[2]]
}
