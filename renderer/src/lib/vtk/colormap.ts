/** vtk.js transfer functions of the overlays: the hot map (pressure, temperature rise) and the diverging B - A map (the numbers are in core/overlay.ts). */
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction'
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction'
import { differenceLookup, overlayLookup, type OverlayLookup } from '../overlay.ts'

export function hotColormap(peakPa: number, thresholdFraction: number) {
  return transferFunctions(overlayLookup(peakPa, thresholdFraction))
}

/** The comparison's B - A overlay (diverging, transparent near zero). */
export function differenceColormap(maxAbsPa: number, thresholdFraction: number) {
  return transferFunctions(differenceLookup(maxAbsPa, thresholdFraction))
}

function transferFunctions(lookup: OverlayLookup) {
  const ctf = vtkColorTransferFunction.newInstance()
  for (const [v, r, g, b] of lookup.colors) ctf.addRGBPoint(v, r, g, b)
  const pwf = vtkPiecewiseFunction.newInstance()
  for (const [v, o] of lookup.opacity) pwf.addPoint(v, o)
  return { ctf, pwf }
}
