/**
 * One slice view (axial, coronal or sagittal): the CT slice with window/level, the registered
 * MRI blended over it (the fused volume, already on the CT's grid), the pressure
 * overlay (colormap, opacity, threshold) with its -3/-6 dB contours, the linked crosshair, and
 * the target and focus markers with the focal-shift line. vtk.js objects are created and freed
 * with the calling scope; everything they show comes from the stores.
 */
import { computed, onScopeDispose, ref, watch, watchEffect, type Ref } from 'vue'
import vtkImageMapper from '@kitware/vtk.js/Rendering/Core/ImageMapper'
import vtkImageSlice from '@kitware/vtk.js/Rendering/Core/ImageSlice'
import vtkImageMarchingSquares from '@kitware/vtk.js/Filters/General/ImageMarchingSquares'
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper'
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor'
import type vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction'
import type vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction'
import vtkInteractorStyleManipulator from '@kitware/vtk.js/Interaction/Style/InteractorStyleManipulator'
import vtkMouseCameraTrackballZoomManipulator from '@kitware/vtk.js/Interaction/Manipulators/MouseCameraTrackballZoomManipulator'
import vtkMouseCameraTrackballPanManipulator from '@kitware/vtk.js/Interaction/Manipulators/MouseCameraTrackballPanManipulator'
import { useVtkView, type VtkView } from '../lib/vtk/useVtkView.ts'
import { differenceColormap, hotColormap } from '../lib/vtk/colormap.ts'
import { loadImage, M_TO_MM, type CachedImage } from '../lib/vtk/image-cache.ts'
import { lineActor, circleSegments, crosshairSegments, projectOntoPlane } from '../lib/vtk/polylines.ts'
import { cross3, lpsToRas, scale3, rasToLps, type Vec3 } from '../../../core/math/index.ts'
import { viewLabels, type ViewLabels } from '../lib/orientation.ts'
import { SLICE_AXIS_INDEX, sliceCamera, sliceIndexAt, type SliceAxis } from '../lib/slice-geometry.ts'
import { dbToAmplitudeRatio } from '../lib/windowing.ts'
import { useImagesStore } from '../stores/images.ts'
import { useViewStore } from '../stores/view.ts'
import { usePlanStore } from '../stores/plan.ts'
import { useMessagesStore } from '../stores/messages.ts'
import { useRegistrationStore } from '../stores/registration.ts'
import { placeTarget } from './targeting.ts'
import { sampleNearest } from '../lib/sample.ts'
import { transducerProfileLpsMm } from '../lib/bowl.ts'
import { useOverlay } from './overlay.ts'

const mm = (p: Vec3): Vec3 => [p[0] * M_TO_MM, p[1] * M_TO_MM, p[2] * M_TO_MM]

export interface SliceViewState {
  readonly labels: Ref<ViewLabels | null>
  /** CSS position of the simulated focus in this view (for tests and the focus badge). */
  readonly focusCss: Ref<{ x: number; y: number } | null>
  readonly sliceIndex: Ref<number | null>
  /** What lies under the mouse: position (RAS, m), CT value (HU), MRI value and pressure (Pa) where shown. */
  readonly cursor: Ref<CursorSample | null>
  /** Fits the slice in the view again (after zooming or panning). */
  readonly resetView: () => void
}

export interface CursorSample {
  readonly ras: Vec3
  readonly hu: number | null
  /** The registered MRI's intensity (its own units), when one is fused in. */
  readonly mri: number | null
  /** The overlay's value under the mouse (Pa, or °C for the temperature overlay), where one is shown. */
  readonly overlay: number | null
}

export function useSliceView(container: Ref<HTMLElement | null>, axis: SliceAxis): SliceViewState {
  const images = useImagesStore()
  const viewStore = useViewStore()
  const plan = usePlanStore()
  const registration = useRegistrationStore()
  const overlay = useOverlay()
  const labels = ref<ViewLabels | null>(null)
  const focusCss = ref<{ x: number; y: number } | null>(null)
  const sliceIndex = ref<number | null>(null)
  const cursor = ref<CursorSample | null>(null)
  let resetView = () => {}
  const ct = ref<CachedImage | null>(null)
  const pressure = ref<CachedImage | null>(null)
  const mri = ref<CachedImage | null>(null)
  const k = SLICE_AXIS_INDEX[axis]

  useVtkView(container, [0, 0, 0], (view: VtkView) => {
    const ctMapper = vtkImageMapper.newInstance()
    ctMapper.setSlicingMode(k)
    const ctSlice = vtkImageSlice.newInstance()
    ctSlice.setMapper(ctMapper)
    ctSlice.getProperty().setInterpolationTypeToLinear()
    const mriMapper = vtkImageMapper.newInstance()
    mriMapper.setSlicingMode(k)
    const mriSlice = vtkImageSlice.newInstance()
    mriSlice.setMapper(mriMapper)
    mriSlice.getProperty().setInterpolationTypeToLinear()
    mriSlice.setVisibility(false)
    const ovMapper = vtkImageMapper.newInstance()
    ovMapper.setSlicingMode(k)
    const ovSlice = vtkImageSlice.newInstance()
    ovSlice.setMapper(ovMapper)
    ovSlice.getProperty().setUseLookupTableScalarRange(true)
    ovSlice.getProperty().setInterpolationTypeToLinear()
    const contours = vtkImageMarchingSquares.newInstance({ slicingMode: k })
    const contourMapper = vtkMapper.newInstance()
    contourMapper.setScalarVisibility(false)
    const contourActor = vtkActor.newInstance()
    contourActor.setMapper(contourMapper)
    contourActor.getProperty().setColor(1, 1, 1)
    contourActor.getProperty().setLineWidth(1.5)
    contourActor.getProperty().setLighting(false)
    const crosshair = lineActor([0.95, 0.8, 0.2], 1)
    const targetMarker = lineActor([0.2, 1, 0.3], 2)
    const focusMarker = lineActor([1, 0.3, 1], 2)
    const shiftLine = lineActor([0.3, 0.9, 1], 2)
    // The transducer of the result on screen: its surface's section and the beam axis.
    const transducerLine = lineActor([0.55, 0.75, 1], 2.5)
    const beamAxis = lineActor([0.85, 0.85, 0.85], 1)
    const rulerLine = lineActor([0.4, 1, 0.9], 1.5)
    const renderer = view.renderer
    for (const a of [ctSlice, mriSlice, ovSlice]) renderer.addViewProp(a)
    for (const a of [
      contourActor,
      crosshair.actor,
      targetMarker.actor,
      focusMarker.actor,
      shiftLine.actor,
      transducerLine.actor,
      beamAxis.actor,
      rulerLine.actor,
    ])
      renderer.addActor(a)
    ovSlice.setVisibility(false)
    contourActor.setVisibility(false)

    // Left click moves the crosshair (navigation); it places the target only in target mode or
    // with Shift held, so a stray click never moves a plan. Wheel scrolls; right drag zooms, middle pans.
    const style = vtkInteractorStyleManipulator.newInstance()
    style.addMouseManipulator(vtkMouseCameraTrackballZoomManipulator.newInstance({ button: 3 }))
    style.addMouseManipulator(vtkMouseCameraTrackballPanManipulator.newInstance({ button: 2 }))
    view.interactor.setInteractorStyle(style)

    const camera = computed(() => (ct.value ? sliceCamera(axis, ct.value.header.direction) : null))
    const inPlane = computed(() => {
      const c = camera.value
      if (!c) return null
      return { right: cross3(c.directionOfProjection, c.viewUp), up: c.viewUp, normal: c.directionOfProjection }
    })

    const pressSub = view.interactor.onLeftButtonPress((event: { position: { x: number; y: number }; shiftKey?: boolean }) => {
      const img = ct.value
      const plane = inPlane.value
      if (!img || !plane) return
      const w = view.displayToWorld(event.position.x, event.position.y)
      // Keep the current slice's depth: a click moves within the plane only.
      const current = mm(viewStore.crosshairLps)
      const onPlane = projectOntoPlane(w as Vec3, current, plane.normal)
      const lps = scale3(onPlane, 1 / M_TO_MM)
      viewStore.setCrosshair(lps)
      if (plan.interactionMode === 'measure') {
        // Two clicks measure; the mode ends with the second.
        if (viewStore.addRulerPoint(lps)) plan.interactionMode = 'navigate'
      } else if (plan.interactionMode === 'target' || event.shiftKey) {
        void placeTarget(lpsToRas(lps)).then((placed) => {
          // One placement per press of "Place target"; a refused point leaves the mode on to try again.
          if (placed && plan.interactionMode === 'target') plan.interactionMode = 'navigate'
        })
      }
    })
    // The value under the mouse, on the slice shown (the pointer's in-plane position at the crosshair's depth).
    const element = container.value!
    const onPointerMove = (e: PointerEvent) => {
      const img = ct.value
      const plane = inPlane.value
      if (!img || !plane) return
      const rect = element.getBoundingClientRect()
      const [w, h] = view.openGL.getSize()
      const world = view.displayToWorld(((e.clientX - rect.left) / rect.width) * w, (1 - (e.clientY - rect.top) / rect.height) * h)
      const lps = scale3(projectOntoPlane(world as Vec3, mm(viewStore.crosshairLps), plane.normal), 1 / M_TO_MM)
      const values = (c: CachedImage) => c.image.getPointData().getScalars().getData() as ArrayLike<number>
      const pr = pressure.value
      const mr = mri.value
      cursor.value = {
        ras: lpsToRas(lps),
        hu: sampleNearest(img.header, values(img), lps),
        mri: mr && registration.current ? sampleNearest(mr.header, values(mr), lps) : null,
        overlay: pr && overlay.value ? sampleNearest(pr.header, values(pr), lps) : null,
      }
    }
    const onPointerLeave = () => {
      cursor.value = null
      hovered = false
    }
    element.addEventListener('pointermove', onPointerMove)
    element.addEventListener('pointerleave', onPointerLeave)
    // One slice per wheel notch, or per arrow / page key while the pointer is over this view.
    const stepSlices = (count: number) => {
      const img = ct.value
      if (!img) return
      const step = img.header.spacingM[k] * count
      const n = camera.value!.directionOfProjection
      const p = viewStore.crosshairLps
      viewStore.crosshairLps = [p[0] + n[0] * step, p[1] + n[1] * step, p[2] + n[2] * step]
    }
    const wheelSub = view.interactor.onMouseWheel((raw) => stepSlices(Math.sign((raw as unknown as { spinY: number }).spinY)))
    let hovered = false
    const onPointerEnter = () => (hovered = true)
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null
      if (!hovered || (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT'))) return
      const step = e.key === 'ArrowUp' || e.key === 'PageUp' ? 1 : e.key === 'ArrowDown' || e.key === 'PageDown' ? -1 : 0
      if (step === 0) return
      e.preventDefault()
      stepSlices(e.key.startsWith('Page') ? 5 * step : step)
    }
    element.addEventListener('pointerenter', onPointerEnter)
    window.addEventListener('keydown', onKey)

    const resetCamera = () => {
      const img = ct.value
      const c = camera.value
      if (!img || !c) return
      const cam = renderer.getActiveCamera()
      const b = img.image.getBounds()
      const centre: Vec3 = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
      const dop = c.directionOfProjection
      cam.setParallelProjection(true)
      cam.setFocalPoint(...centre)
      cam.setPosition(centre[0] - dop[0] * 500, centre[1] - dop[1] * 500, centre[2] - dop[2] * 500)
      cam.setViewUp(...c.viewUp)
      // Fit the in-plane extent: half of the larger of the two in-plane sizes.
      const ext = [b[1] - b[0], b[3] - b[2], b[5] - b[4]]
      const plane = inPlane.value!
      const along = (v: Vec3) => Math.abs(v[0]) * ext[0]! + Math.abs(v[1]) * ext[1]! + Math.abs(v[2]) * ext[2]!
      const aspect = (view.openGL.getSize()[0] || 1) / (view.openGL.getSize()[1] || 1)
      cam.setParallelScale(0.52 * Math.max(along(plane.up), along(plane.right) / aspect))
      renderer.resetCameraClippingRange()
      labels.value = viewLabels(c.directionOfProjection, c.viewUp)
    }
    resetView = () => {
      resetCamera()
      view.requestRender()
    }

    // The CT: load, show, centre the crosshair once.
    watch(
      () => images.ct?.volumeId,
      async (volumeId) => {
        if (!volumeId) return
        try {
          const loaded = await loadImage(volumeId)
          ct.value = loaded
          ctMapper.setInputData(loaded.image)
          resetCamera()
          view.requestRender()
        } catch (e) {
          useMessagesStore().error(`Showing the CT in the ${axis} view`, e)
        }
      },
      { immediate: true },
    )
    // The overlay: the plan's pressure, or, while two plans are compared, their difference B - A.
    watch(
      () => overlay.value?.volumeId,
      async (volumeId) => {
        pressure.value = null
        ovSlice.setVisibility(false)
        contourActor.setVisibility(false)
        if (!volumeId) return view.requestRender()
        try {
          const loaded = await loadImage(volumeId)
          pressure.value = loaded
          ovMapper.setInputData(loaded.image)
          contours.setInputData(loaded.image)
          // Connected only once there is a pressure volume: an unconnected filter complains on every render.
          contourMapper.setInputConnection(contours.getOutputPort())
          view.requestRender()
        } catch (e) {
          useMessagesStore().error(`Showing the pressure in the ${axis} view`, e)
        }
      },
      { immediate: true },
    )
    // The registered MRI, on the CT's grid (so it shares slices and crosshair), windowed to its own range.
    watch(
      () => registration.current?.fusedVolumeId,
      async (volumeId) => {
        mri.value = null
        mriSlice.setVisibility(false)
        if (!volumeId) return view.requestRender()
        try {
          const loaded = await loadImage(volumeId)
          if (registration.current?.fusedVolumeId !== volumeId) return
          mri.value = loaded
          mriMapper.setInputData(loaded.image)
          const [lo, hi] = loaded.header.range
          mriSlice.getProperty().setColorWindow(Math.max(1e-6, hi - lo))
          mriSlice.getProperty().setColorLevel((lo + hi) / 2)
          view.requestRender()
        } catch (e) {
          useMessagesStore().error(`Showing the MRI in the ${axis} view`, e)
        }
      },
      { immediate: true },
    )
    watchEffect(() => {
      ctSlice.getProperty().setColorWindow(viewStore.windowWidth)
      ctSlice.getProperty().setColorLevel(viewStore.windowLevel)
      view.requestRender()
    })
    // Slice position and in-plane markers follow the crosshair, target and result.
    watchEffect(() => {
      const img = ct.value
      const plane = inPlane.value
      if (!img || !plane) return
      const h = img.header
      const p = viewStore.crosshairLps
      const index = sliceIndexAt(axis, p, { originM: h.originM, spacingM: h.spacingM, direction: h.direction, dims: h.dims })
      sliceIndex.value = index
      ctMapper.setSlice(index)
      const mr = mri.value
      if (mr && registration.current) {
        mriMapper.setSlice(
          sliceIndexAt(axis, p, { originM: mr.header.originM, spacingM: mr.header.spacingM, direction: mr.header.direction, dims: mr.header.dims }),
        )
        mriSlice.getProperty().setOpacity(viewStore.mriOpacity)
        mriSlice.setPosition(...scale3(plane.normal, -0.1))
        mriSlice.setVisibility(viewStore.mriOpacity > 0)
      } else mriSlice.setVisibility(false)
      const c = mm(p)
      // Overlays sit a little toward the camera so they draw over the CT slice.
      const lift = (d: number): Vec3 => scale3(plane.normal, -d)
      const b = img.image.getBounds()
      const half = Math.hypot(b[1] - b[0], b[3] - b[2], b[5] - b[4])
      crosshair.set(crosshairSegments(c, plane.right, plane.up, half, 6))
      crosshair.actor.setPosition(...lift(0.4))
      const target = plan.targetRasM ? mm(rasToLps(plan.targetRasM)) : null
      targetMarker.set(target ? circleSegments(projectOntoPlane(target, c, plane.normal), plane.right, plane.up, 3) : [])
      targetMarker.actor.setPosition(...lift(0.5))
      const result = plan.shown
      const focus = result ? mm(rasToLps(result.metrics.peak_position_ras_m)) : null
      focusMarker.set(focus ? circleSegments(projectOntoPlane(focus, c, plane.normal), plane.right, plane.up, 4.5) : [])
      focusMarker.actor.setPosition(...lift(0.5))
      const resultTarget = result ? mm(rasToLps(result.metrics.target_ras_m)) : null
      shiftLine.set(focus && resultTarget ? [[projectOntoPlane(resultTarget, c, plane.normal), projectOntoPlane(focus, c, plane.normal)]] : [])
      shiftLine.actor.setPosition(...lift(0.5))
      const device = result ? plan.transducers.find((t) => t.id === result.plan.transducer.id) : undefined
      // Only where the beam runs within 45 degrees of the view's plane: across it, the section
      // would collapse onto the focus and read as something inside the head.
      const axisLps = result ? ([-result.plan.pose.axis_ras[0], -result.plan.pose.axis_ras[1], result.plan.pose.axis_ras[2]] as Vec3) : null
      const inPlaneBeam =
        axisLps !== null && Math.abs(axisLps[0] * plane.normal[0] + axisLps[1] * plane.normal[1] + axisLps[2] * plane.normal[2]) < Math.SQRT1_2
      if (result && device && inPlaneBeam) {
        // The axis stops 8 mm short of the target, so it never covers the focus it points at.
        const apex = result.plan.pose.apex_ras_m
        const depth = Math.max(
          0,
          Math.hypot(result.plan.target_ras_m[0] - apex[0], result.plan.target_ras_m[1] - apex[1], result.plan.target_ras_m[2] - apex[2]) - 0.008,
        )
        const profile = transducerProfileLpsMm(device, result.plan.pose.transducer_to_ras, [plane.right, plane.up], depth)
        const onSlice = (segments: [Vec3, Vec3][]) =>
          segments.map(([a, b]) => [projectOntoPlane(a, c, plane.normal), projectOntoPlane(b, c, plane.normal)] as [Vec3, Vec3])
        transducerLine.set(onSlice(profile.surface))
        beamAxis.set(onSlice(profile.axis))
      } else {
        transducerLine.set([])
        beamAxis.set([])
      }
      transducerLine.actor.setPosition(...lift(0.5))
      beamAxis.actor.setPosition(...lift(0.45))
      // The ruler, projected onto this slice, with a small cross at each end.
      const r = viewStore.ruler
      const ends = r ? [r.a, ...(r.b ? [r.b] : [])].map((q) => projectOntoPlane(mm(q), c, plane.normal)) : []
      rulerLine.set([
        ...(ends.length === 2 ? [[ends[0]!, ends[1]!] as [Vec3, Vec3]] : []),
        ...ends.flatMap((e) => crosshairSegments(e, plane.right, plane.up, 2, 0)),
      ])
      rulerLine.actor.setPosition(...lift(0.55))

      const pr = pressure.value
      const choice = overlay.value
      const showOverlay = (index: number, lookup: { ctf: vtkColorTransferFunction; pwf: vtkPiecewiseFunction }) => {
        ovMapper.setSlice(index)
        ovSlice.getProperty().setRGBTransferFunction(0, lookup.ctf)
        ovSlice.getProperty().setPiecewiseFunction(0, lookup.pwf)
        ovSlice.getProperty().setOpacity(viewStore.overlayOpacity)
        ovSlice.setPosition(...lift(0.2))
        ovSlice.setVisibility(true)
      }
      if (pr && choice) {
        const ph = pr.header
        const pIndex = sliceIndexAt(axis, p, { originM: ph.originM, spacingM: ph.spacingM, direction: ph.direction, dims: ph.dims })
        if (choice.kind === 'difference') {
          // B - A, saturating at the larger in-brain peak (the near fields differ more).
          showOverlay(pIndex, differenceColormap(choice.scale, viewStore.overlayThreshold))
          contourActor.setVisibility(false)
        } else if (choice.kind === 'temperature') {
          // The same hot map from the threshold to the largest tissue rise.
          showOverlay(pIndex, hotColormap(choice.scale, viewStore.overlayThreshold))
          contourActor.setVisibility(false)
        } else {
          // Scaled to the focal peak in the brain, not the volume's maximum: the near field in the
          // scalp and skull is several times stronger and would push the focus into the bottom of
          // the map. Higher values saturate at the top colour.
          const peak = choice.scale
          showOverlay(pIndex, hotColormap(peak, viewStore.overlayThreshold))
          contours.setSlice(pIndex)
          contours.setContourValues([dbToAmplitudeRatio(-6) * peak, dbToAmplitudeRatio(-3) * peak])
          contourActor.setPosition(...lift(0.3))
          contourActor.setVisibility(viewStore.showContours)
        }
      }
      view.requestRender()
    })
    const offRendered = view.onRendered(() => {
      const result = plan.shown
      focusCss.value = result ? view.worldToCss(mm(rasToLps(result.metrics.peak_position_ras_m))) : null
    })

    onScopeDispose(() => {
      offRendered()
      element.removeEventListener('pointermove', onPointerMove)
      element.removeEventListener('pointerleave', onPointerLeave)
      element.removeEventListener('pointerenter', onPointerEnter)
      window.removeEventListener('keydown', onKey)
      pressSub.unsubscribe()
      wheelSub.unsubscribe()
      for (const l of [crosshair, targetMarker, focusMarker, shiftLine, transducerLine, beamAxis, rulerLine]) l.delete()
      for (const o of [ctSlice, ctMapper, mriSlice, mriMapper, ovSlice, ovMapper, contours, contourMapper, contourActor, style]) o.delete()
    })
  })
  return { labels, focusCss, sliceIndex, cursor, resetView: () => resetView() }
}
