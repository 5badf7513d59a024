/**
 * `tfus register --ct <ct> --mri <t1> --out <transform.json>`: rigid registration of an MRI
 * (moving) to a CT (fixed). Writes and prints the map of MRI world points onto CT world points,
 * p_ct = M p_mri, as RAS metres (what a plan stores), RAS mm (Slicer) and LPS mm (ITK).
 *
 * A result that looks wrong (head outlines that disagree: different subjects, or a failed
 * registration) is not written: exit 2 with the reason, unless --accept-low-quality.
 * Exit codes as `tfus`: 0 done, 2 bad input (unreadable image, no overlap, low quality),
 * 3 elastix failed, 130 cancelled.
 */
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import { readVolume } from '../adapters/volume-io.ts'
import { DEFAULT_DOWNSAMPLE_M, isRegistrationError, registerRigid, transformFileJson, type RigidRegistrationResult } from '../adapters/registration.ts'

const EXIT_OK = 0
const EXIT_BAD_INPUT = 2
const EXIT_NUMERICAL = 3

interface Args {
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

export async function commandRegister(args: Args, signal: AbortSignal, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const bad = (problem: string) => {
    err(`tfus: register: ${problem} (tfus register --help for usage)`)
    return EXIT_BAD_INPUT
  }
  const ct = args.flags.get('ct')
  const mri = args.flags.get('mri')
  const outFile = args.flags.get('out')
  if (args.positional.length > 0) return bad(`unexpected argument "${args.positional[0]}"`)
  if (typeof ct !== 'string') return bad('--ct is missing: give the CT (fixed image)')
  if (typeof mri !== 'string') return bad('--mri is missing: give the MRI (moving image)')
  if (typeof outFile !== 'string') return bad('--out is missing: give the transform file to write (.json)')
  if (!outFile.toLowerCase().endsWith('.json')) return bad(`--out must name a .json file, got ${outFile}`)
  const voxelFlag = args.flags.get('voxel-mm')
  const voxelMm = voxelFlag === undefined ? DEFAULT_DOWNSAMPLE_M * 1000 : Number(voxelFlag)
  if (!(voxelMm >= 0) || !Number.isFinite(voxelMm) || voxelMm > 20)
    return bad(`--voxel-mm must be a size in mm between 0 (original grids) and 20, got ${String(voxelFlag)}`)
  const init = args.flags.get('init') ?? 'center-of-mass'
  if (init !== 'center-of-mass' && init !== 'none') return bad(`--init must be center-of-mass or none, got ${String(init)}`)

  const showProgress = process.stderr.isTTY || args.flags.has('progress')
  let lastPrint = 0
  const onProgress = (fraction: number, message: string) => {
    if (!showProgress) return
    const now = performance.now()
    if (now - lastPrint < 500 && fraction < 1) return
    lastPrint = now
    process.stderr.write(`\r${Math.round(fraction * 100)}% ${message}`.padEnd(60) + (fraction >= 1 ? '\n' : ''))
  }

  const fixed = await readVolume(ct, { modality: 'CT', signal })
  const moving = await readVolume(mri, { modality: 'MR', signal })
  if (!fixed.data.some((v) => v < -500)) err(`tfus: warning: ${ct} does not look like a CT in HU (no value below -500)`)
  let result: RigidRegistrationResult
  try {
    result = await registerRigid(fixed, moving, { signal, onProgress, downsampleM: voxelMm / 1000, initialize: init, fixedName: ct, movingName: mri })
  } catch (e) {
    if (!isRegistrationError(e)) throw e
    err(`tfus: error: ${e.message}`)
    return e.code === 'elastix-failed' ? EXIT_NUMERICAL : EXIT_BAD_INPUT
  }

  const json = transformFileJson(result, ct, mri)
  const accept = args.flags.has('accept-low-quality')
  if (!result.quality.acceptable && !accept) {
    err(
      `tfus: error: registering ${mri} to ${ct} gave a result that looks wrong: ${result.quality.reasons.join('; ')}. Nothing written; check that both images show the same patient, or pass --accept-low-quality to write it anyway.`,
    )
    return EXIT_BAD_INPUT
  }
  await fs.mkdir(path.dirname(path.resolve(outFile)), { recursive: true })
  const tmp = path.join(path.dirname(path.resolve(outFile)), `.${path.basename(outFile)}.${process.pid}.tmp`)
  await fs.writeFile(tmp, JSON.stringify(json, null, 2) + '\n')
  await fs.rename(tmp, outFile)

  if (args.flags.has('json')) {
    out(JSON.stringify(json, null, 2))
    return EXIT_OK
  }
  const fmtRow = (row: number[], digits: number[]) => `  [${row.map((v, i) => v.toFixed(digits[i]!).padStart(11)).join(' ')} ]`
  out(
    `registered ${mri} (MRI) to ${ct} (CT) in ${result.wallTimeS.toFixed(1)} s (elastix ${result.elastixS.toFixed(1)} s, ${result.iterations} iterations over ${result.iterationsPerResolution.length} resolutions, ${json.registration_voxel_mm} mm voxels)`,
  )
  out('MRI -> CT, RAS, millimetres (p_ct = M p_mri):')
  for (const row of json.matrix_ras_mm) out(fmtRow(row, [6, 6, 6, 3]))
  out('MRI -> CT, LPS, millimetres (ITK):')
  for (const row of json.matrix_lps_mm) out(fmtRow(row, [6, 6, 6, 3]))
  out(`rotation ${json.rotation_deg.toFixed(2)} deg, translation ${json.translation_mm_ras.map((v) => v.toFixed(2)).join(', ')} mm (RAS)`)
  const q = result.quality
  out(
    `quality: head outline Dice ${q.final.headDice.toFixed(3)} (${q.initial.headDice.toFixed(3)} at the start), NMI ${result.metric.value.toFixed(3)} (${result.metric.initial.toFixed(3)}), MRI covers ${(100 * q.final.coverage).toFixed(0)}% of the CT's head: ${q.acceptable ? 'ok' : 'LOW'}`,
  )
  for (const reason of q.reasons) out(`warning: ${reason}`)
  out(`wrote ${outFile}`)
  return EXIT_OK
}
