/**
 * A vtk.js render window in a container element, owned by the calling effect scope: created
 * here, freed in onScopeDispose (VolView's useVtkView pattern). Renders are batched to one per
 * animation frame; `requestRender()` is the only way callers draw.
 */
import { onScopeDispose, markRaw, type Ref, watch } from 'vue'
import '@kitware/vtk.js/Rendering/Profiles/Geometry'
import '@kitware/vtk.js/Rendering/Profiles/Volume'
import vtkGenericRenderWindow from '@kitware/vtk.js/Rendering/Misc/GenericRenderWindow'
import type { vtkOpenGLRenderWindow } from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow'

export type VtkView = ReturnType<typeof createView>

function createView(container: HTMLElement, background: [number, number, number]) {
  const generic = vtkGenericRenderWindow.newInstance({ background, listenWindowResize: false })
  generic.setContainer(container)
  const renderer = generic.getRenderer()
  const renderWindow = generic.getRenderWindow()
  // This app renders with WebGL2 only (the WebGPU view is not used).
  const openGL = generic.getApiSpecificRenderWindow() as vtkOpenGLRenderWindow
  const interactor = generic.getInteractor()
  generic.resize()
  let pending = 0
  const listeners = new Set<() => void>()
  const api = {
    generic,
    renderer,
    renderWindow,
    openGL,
    interactor,
    /** Draws on the next animation frame (many changes, one render). */
    requestRender(): void {
      if (pending) return
      pending = requestAnimationFrame(() => {
        pending = 0
        renderWindow.render()
        for (const l of listeners) l()
      })
    },
    /** Called after each render (for overlays that follow world points). */
    onRendered(listener: () => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** CSS pixel position (from the container's top-left) of an LPS point in mm. */
    worldToCss(p: readonly [number, number, number]): { x: number; y: number } {
      const [x, y] = openGL.worldToDisplay(p[0], p[1], p[2], renderer) as unknown as [number, number, number]
      const rect = container.getBoundingClientRect()
      const [w, h] = openGL.getSize()
      return { x: (x / w) * rect.width, y: rect.height - (y / h) * rect.height }
    },
    /** LPS mm of a display position (pixels from the bottom-left, as interactor events give). */
    displayToWorld(x: number, y: number): [number, number, number] {
      return openGL.displayToWorld(x, y, 0, renderer) as unknown as [number, number, number]
    },
  }
  const observer = new ResizeObserver(() => {
    generic.resize()
    api.requestRender()
  })
  observer.observe(container)
  const dispose = () => {
    observer.disconnect()
    if (pending) cancelAnimationFrame(pending)
    listeners.clear()
    generic.delete()
  }
  return markRaw({ ...api, dispose })
}

/**
 * Creates the view when the element appears; the view lives until the scope ends. `onReady`
 * runs once with the view (set up actors there).
 */
export function useVtkView(containerRef: Ref<HTMLElement | null>, background: [number, number, number], onReady: (view: VtkView) => void): void {
  let view: VtkView | null = null
  const stop = watch(
    containerRef,
    (el) => {
      if (!el || view) return
      view = createView(el, background)
      onReady(view)
    },
    { immediate: true, flush: 'post' },
  )
  onScopeDispose(() => {
    stop()
    view?.dispose()
    view = null
  })
}
