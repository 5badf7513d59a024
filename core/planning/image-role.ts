/**
 * Acoustic planning needs a CT: the skull's sound speed, density and absorption come from its
 * Hounsfield units (core/skull). An MRI (or anything else) opened as the CT is refused before any
 * simulation, in words, not with a placement code after one.
 */

/** Why an image of this modality cannot be the planning CT, or null when it is a CT. */
export function notACtRefusal(name: string, modality: string): string | null {
  if (modality === 'CT') return null
  const what = modality === 'MR' ? 'an MRI' : `not a CT (modality ${modality || 'unknown'})`
  return `${name} is ${what}: acoustic planning needs a CT, whose Hounsfield units give the skull's sound speed and density. Open the patient's CT here; an MRI is for picking the target (tfus plan --mri). If it is a CT, its values are not Hounsfield units (air should read about -1000): convert it first.`
}
