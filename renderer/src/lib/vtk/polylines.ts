/** Small vtk.js polyline helpers for crosshairs, markers and arrows (LPS millimetres). */
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData'
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor'
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper'
import { markRaw } from 'vue'
import type { Segments } from '../segments.ts'

export type { Segments }
export { circleSegments, crosshairSegments, projectOntoPlane } from '../segments.ts'

export function segmentsPolyData(segments: Segments, target?: vtkPolyData): vtkPolyData {
  const pd = target ?? vtkPolyData.newInstance()
  const pts = new Float32Array(segments.length * 6)
  const lines = new Uint32Array(segments.length * 3)
  segments.forEach(([a, b], i) => {
    pts.set([a[0], a[1], a[2], b[0], b[1], b[2]], i * 6)
    lines.set([2, 2 * i, 2 * i + 1], i * 3)
  })
  pd.getPoints().setData(pts, 3)
  pd.getLines().setData(lines)
  pd.modified()
  return pd
}

export function lineActor(color: [number, number, number], width = 1.5) {
  const polyData = vtkPolyData.newInstance()
  const mapper = vtkMapper.newInstance()
  mapper.setInputData(polyData)
  const actor = vtkActor.newInstance()
  actor.setMapper(mapper)
  actor.getProperty().setColor(...color)
  actor.getProperty().setLineWidth(width)
  actor.getProperty().setLighting(false)
  return markRaw({
    actor,
    polyData,
    mapper,
    set(segments: Segments) {
      segmentsPolyData(segments, polyData)
      actor.setVisibility(segments.length > 0)
    },
    delete() {
      actor.delete()
      mapper.delete()
      polyData.delete()
    },
  })
}
