/**
 * The 3D view: skull surface (marching cubes at 300 HU on a coarse copy of the CT), a faint
 * scalp, the transducer as its real radiating surface at the plan's pose, target / entry / focus
 * markers with the focal-shift line, and the -6 dB pressure isosurface.
 */
import { onScopeDispose, ref, watch, watchEffect, type Ref } from 'vue'
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes'
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper'
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor'
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData'
import vtkSphereSource from '@kitware/vtk.js/Filters/Sources/SphereSource'
import vtkCellPicker from '@kitware/vtk.js/Rendering/Core/CellPicker'
import { useVtkView, type VtkView } from '../lib/vtk/useVtkView.ts'
import { loadImage, M_TO_MM } from '../lib/vtk/image-cache.ts'
import { lineActor } from '../lib/vtk/polylines.ts'
import { placeMeshLps, transducerMesh } from '../lib/bowl.ts'
import { applyAffine, lpsToRas, rasToLps, type Vec3 } from '../../../core/math/index.ts'
import { dbToAmplitudeRatio } from '../lib/windowing.ts'
import { SCALP_HU, SKULL_HU } from '../lib/target-check.ts'
import { useImagesStore } from '../stores/images.ts'
import { usePlanStore } from '../stores/plan.ts'
import { useViewStore } from '../stores/view.ts'
import { useMessagesStore } from '../stores/messages.ts'

const mm = (p: Vec3): Vec3 => [p[0] * M_TO_MM, p[1] * M_TO_MM, p[2] * M_TO_MM]

function surfaceActor(color: [number, number, number], opacity: number) {
  const mapper = vtkMapper.newInstance()
  mapper.setScalarVisibility(false)
  const actor = vtkActor.newInstance()
  actor.setMapper(mapper)
  actor.getProperty().setColor(...color)
  actor.getProperty().setOpacity(opacity)
  return { mapper, actor }
}

function sphereActor(color: [number, number, number], radiusMm: number) {
  const source = vtkSphereSource.newInstance({ radius: radiusMm, thetaResolution: 16, phiResolution: 12 })
  const { mapper, actor } = surfaceActor(color, 1)
  mapper.setInputConnection(source.getOutputPort())
  actor.setVisibility(false)
  return {
    actor,
    place(p: Vec3 | null) {
      actor.setVisibility(p !== null)
      if (p) source.setCenter(p[0], p[1], p[2])
    },
    delete() {
      actor.delete()
      mapper.delete()
      source.delete()
    },
  }
}

export function use3DView(container: Ref<HTMLElement | null>): { readonly ready: Ref<boolean> } {
  const images = useImagesStore()
  const plan = usePlanStore()
  const viewStore = useViewStore()
  const ready = ref(false)

  useVtkView(container, [0.08, 0.09, 0.12], (view: VtkView) => {
    const renderer = view.renderer
    const skull = surfaceActor([0.93, 0.9, 0.82], 1)
    const scalp = surfaceActor([0.85, 0.65, 0.55], 0.12)
    const iso = surfaceActor([1, 0.25, 0.05], 0.85)
    const bowl = surfaceActor([0.35, 0.6, 1], 0.9)
    bowl.actor.getProperty().setBackfaceCulling(false)
    const target = sphereActor([0.2, 1, 0.3], 2.5)
    const entry = sphereActor([1, 0.85, 0.2], 2.5)
    const focus = sphereActor([1, 0.3, 1], 2)
    const shift = lineActor([0.3, 0.9, 1], 3)
    for (const a of [skull.actor, scalp.actor, iso.actor, bowl.actor, target.actor, entry.actor, focus.actor, shift.actor]) renderer.addActor(a)
    for (const a of [skull.actor, scalp.actor, iso.actor, bowl.actor]) a.setVisibility(false)
    const skullMc = vtkImageMarchingCubes.newInstance({ contourValue: SKULL_HU, computeNormals: true, mergePoints: false })
    const scalpMc = vtkImageMarchingCubes.newInstance({ contourValue: SCALP_HU, computeNormals: true, mergePoints: false })
    const isoMc = vtkImageMarchingCubes.newInstance({ computeNormals: true, mergePoints: false })
    let cameraSet = false
    // In entry mode a click (press and release without a drag) on the scalp sets the entry point;
    // otherwise clicks and drags only turn the camera.
    const picker = vtkCellPicker.newInstance()
    picker.setPickFromList(true)
    picker.initializePickList()
    picker.addPickList(scalp.actor)
    let pressAt: { x: number; y: number } | null = null
    const pressSub = view.interactor.onLeftButtonPress((e: { position: { x: number; y: number } }) => {
      pressAt = { x: e.position.x, y: e.position.y }
    })
    const releaseSub = view.interactor.onLeftButtonRelease((e: { position: { x: number; y: number } }) => {
      const start = pressAt
      pressAt = null
      if (!start || plan.running || plan.interactionMode !== 'entry' || Math.hypot(e.position.x - start.x, e.position.y - start.y) > 3) return
      picker.pick([e.position.x, e.position.y, 0], renderer)
      if (picker.getActors().length === 0) return
      const p = picker.getPickPosition()
      plan.setEntry(lpsToRas([p[0] / M_TO_MM, p[1] / M_TO_MM, p[2] / M_TO_MM]))
      plan.interactionMode = 'navigate'
    })
    // Live preview in entry mode: a drag that starts on the scalp moves the entry (the transducer follows it)
    // instead of rotating the camera. Capture-phase listeners on the view's wrapper see the
    // pointer first and keep it from vtk's interactor while dragging.
    const wrapper = container.value?.parentElement ?? null
    const canvasRect = () => container.value!.getBoundingClientRect()
    const pickScalp = (clientX: number, clientY: number): Vec3 | null => {
      const rect = canvasRect()
      const [w, h] = view.openGL.getSize()
      const x = ((clientX - rect.left) / rect.width) * w
      const y = (1 - (clientY - rect.top) / rect.height) * h
      picker.pick([x, y, 0], renderer)
      if (picker.getActors().length === 0) return null
      const p = picker.getPickPosition()
      return lpsToRas([p[0] / M_TO_MM, p[1] / M_TO_MM, p[2] / M_TO_MM])
    }
    let dragging = false
    let dragGesture = 0
    const onDown = (e: PointerEvent) => {
      if (!plan.livePreview || plan.running || plan.interactionMode !== 'entry' || e.button !== 0) return
      const hit = pickScalp(e.clientX, e.clientY)
      if (!hit) return
      dragging = true
      e.stopPropagation()
      e.preventDefault()
      wrapper?.setPointerCapture(e.pointerId)
      dragGesture++
      plan.setEntry(hit, dragGesture)
    }
    const onMove = (e: PointerEvent) => {
      if (!dragging) return
      e.stopPropagation()
      const hit = pickScalp(e.clientX, e.clientY)
      if (hit) plan.setEntry(hit, dragGesture)
    }
    const onUp = (e: PointerEvent) => {
      if (!dragging) return
      dragging = false
      plan.interactionMode = 'navigate'
      e.stopPropagation()
      wrapper?.releasePointerCapture(e.pointerId)
    }
    wrapper?.addEventListener('pointerdown', onDown, true)
    wrapper?.addEventListener('pointermove', onMove, true)
    wrapper?.addEventListener('pointerup', onUp, true)

    let lastPosedRun = ''
    const isoReady = ref(false)

    const placeCamera = () => {
      const cam = renderer.getActiveCamera()
      renderer.resetCamera()
      const fp = cam.getFocalPoint()
      // From the patient's front-left and above: face, skull and a lateral transducer all visible.
      const d = 420
      const dir: Vec3 = [0.55, -0.7, 0.45]
      cam.setPosition(fp[0] + dir[0] * d, fp[1] + dir[1] * d, fp[2] + dir[2] * d)
      cam.setViewUp(0, 0, 1)
      renderer.resetCamera()
      renderer.resetCameraClippingRange()
    }

    /**
     * After a plan: look across the beam (from the front side, a little from above and from the
     * transducer's side), so the bowl, the path through the skull and the focus are all in view.
     */
    const lookFromTransducer = (apex: Vec3) => {
      const cam = renderer.getActiveCamera()
      const fp = cam.getFocalPoint()
      const out: Vec3 = [apex[0] - fp[0], apex[1] - fp[1], apex[2] - fp[2]]
      const n = Math.hypot(...out) || 1
      const axis: Vec3 = [out[0] / n, out[1] / n, out[2] / n]
      // Perpendicular to the beam in the horizontal plane, on the anterior (-y in LPS) side.
      let perp: Vec3 = [-axis[1], axis[0], 0]
      if (perp[1] > 0) perp = [-perp[0], -perp[1], 0]
      const pn = Math.hypot(...perp) || 1
      const dir: Vec3 = [perp[0] / pn + 0.35 * axis[0], perp[1] / pn + 0.35 * axis[1], 0.6 + 0.35 * axis[2]]
      const d = Math.hypot(...(cam.getPosition().map((v, i) => v - fp[i]!) as [number, number, number]))
      const m = Math.hypot(...dir)
      cam.setPosition(fp[0] + (dir[0] / m) * d, fp[1] + (dir[1] / m) * d, fp[2] + (dir[2] / m) * d)
      cam.setViewUp(0, 0, 1)
      renderer.resetCamera()
      renderer.resetCameraClippingRange()
    }

    watch(
      () => images.ct?.volumeId,
      async (volumeId) => {
        if (!volumeId) return
        try {
          // Coarse copies keep marching cubes under a second and the mesh light for software GL.
          const [bone, skin] = await Promise.all([loadImage(volumeId, 2), loadImage(volumeId, 4)])
          skullMc.setInputData(bone.image)
          skull.mapper.setInputData(skullMc.getOutputData() as vtkPolyData)
          scalpMc.setInputData(skin.image)
          scalp.mapper.setInputData(scalpMc.getOutputData() as vtkPolyData)
          skull.actor.setVisibility(viewStore.showSkull)
          scalp.actor.setVisibility(viewStore.showSkull)
          if (!cameraSet) placeCamera()
          cameraSet = true
          ready.value = true
          view.requestRender()
        } catch (e) {
          useMessagesStore().error('Building the skull surface', e)
        }
      },
      { immediate: true },
    )
    watch(
      () => plan.shown?.pressureVolumeId,
      async (volumeId) => {
        iso.actor.setVisibility(false)
        isoReady.value = false
        if (!volumeId) return view.requestRender()
        try {
          const p = await loadImage(volumeId, 2)
          isoMc.setInputData(p.image)
          // -6 dB of the focal peak in the brain (metrics), as the plan's focal volume is defined.
          isoMc.setContourValue(dbToAmplitudeRatio(-6) * (plan.shown?.metrics.peak_pressure_pa ?? p.header.range[1]))
          iso.mapper.setInputData(isoMc.getOutputData() as vtkPolyData)
          isoReady.value = true
          view.requestRender()
        } catch (e) {
          useMessagesStore().error('Building the pressure isosurface', e)
        }
      },
      { immediate: true },
    )
    watchEffect(() => {
      skull.actor.setVisibility(viewStore.showSkull && images.ct !== null)
      // With a result the skull turns translucent so the focus inside the head shows.
      skull.actor.getProperty().setOpacity(plan.shown ? 0.5 : 1)
      iso.actor.setVisibility(viewStore.showIsosurface && plan.shown !== null && isoReady.value)
      target.place(plan.targetRasM ? mm(rasToLps(plan.targetRasM)) : null)
      const result = plan.shown
      const t = plan.transducers.find((x) => x.id === result?.plan.transducer.id) ?? null
      if (result && t) {
        const pose = result.plan.pose
        const mesh = placeMeshLps(
          transducerMesh({ type: t.type, rocM: t.rocM, apertureM: t.apertureM, innerApertureM: t.innerApertureM }),
          pose.transducer_to_ras,
        )
        const pd = vtkPolyData.newInstance()
        pd.getPoints().setData(new Float32Array(mesh.points.map((v) => v * M_TO_MM)), 3)
        pd.getPolys().setData(mesh.polys)
        bowl.mapper.setInputData(pd)
        bowl.actor.setVisibility(true)
        // Entry: the planner's entry point, else where the exit plane meets the head (apex + exit offset + standoff along the axis).
        const entryRas: Vec3 = result.plan.entry_ras_m ?? applyAffine(pose.transducer_to_ras, [0, 0, t.exitPlaneOffsetM + pose.standoff_m])
        entry.place(mm(rasToLps(plan.entryRasM ?? entryRas)))
        if (lastPosedRun !== result.runId) {
          lastPosedRun = result.runId
          lookFromTransducer(mm(rasToLps(pose.apex_ras_m)))
        }
        const f = mm(rasToLps(result.metrics.peak_position_ras_m))
        focus.place(f)
        shift.set([[mm(rasToLps(result.metrics.target_ras_m)), f]])
      } else {
        bowl.actor.setVisibility(false)
        entry.place(plan.entryRasM ? mm(rasToLps(plan.entryRasM)) : null)
        focus.place(null)
        shift.set([])
      }
      view.requestRender()
    })

    onScopeDispose(() => {
      wrapper?.removeEventListener('pointerdown', onDown, true)
      wrapper?.removeEventListener('pointermove', onMove, true)
      wrapper?.removeEventListener('pointerup', onUp, true)
      pressSub.unsubscribe()
      releaseSub.unsubscribe()
      picker.delete()
      for (const s of [target, entry, focus, shift]) s.delete()
      for (const s of [skull, scalp, iso, bowl]) {
        s.actor.delete()
        s.mapper.delete()
      }
      for (const f of [skullMc, scalpMc, isoMc]) f.delete()
    })
  })
  return { ready }
}
