/** Page object of the planner: every selector is a data-testid. */
import type { Locator, Page } from 'playwright-core'

export type SliceAxis = 'axial' | 'coronal' | 'sagittal'

export class PlannerPage {
  constructor(readonly page: Page) {}

  id(testId: string): Locator {
    return this.page.getByTestId(testId)
  }

  async importPath(file: string, role: 'ct' | 'mri' = 'ct'): Promise<void> {
    await this.id('import-role').selectOption(role)
    await this.id('import-path').fill(file)
    await this.id('import-open').click()
  }

  async waitForViews(): Promise<void> {
    await this.id('ct-info').waitFor({ timeout: 120_000 })
    await this.page.locator('[data-testid="view-3d"][data-ready="yes"]').waitFor({ timeout: 120_000 })
  }

  async labels(axis: SliceAxis): Promise<Record<'top' | 'bottom' | 'left' | 'right', string>> {
    const get = (edge: string) => this.id(`label-${axis}-${edge}`).innerText()
    return { top: await get('top'), bottom: await get('bottom'), left: await get('left'), right: await get('right') }
  }

  /** Clicks a view at a fraction of its width and height. */
  async clickView(axis: SliceAxis, fx: number, fy: number): Promise<void> {
    const box = await this.id(`canvas-${axis}`).boundingBox()
    if (!box) throw new Error(`view ${axis} is not visible`)
    await this.page.mouse.click(box.x + box.width * fx, box.y + box.height * fy)
  }

  async dblclickView(axis: SliceAxis, fx: number, fy: number): Promise<void> {
    const box = await this.id(`canvas-${axis}`).boundingBox()
    if (!box) throw new Error(`view ${axis} is not visible`)
    await this.page.mouse.dblclick(box.x + box.width * fx, box.y + box.height * fy)
  }

  async clickView3d(fx: number, fy: number): Promise<void> {
    const box = await this.id('canvas-3d').boundingBox()
    if (!box) throw new Error('the 3D view is not visible')
    await this.page.mouse.click(box.x + box.width * fx, box.y + box.height * fy)
  }

  /** Press at one point of the 3D view, move through the others, release (fractions of the view). */
  async drag3d(points: readonly (readonly [number, number])[], stepMs = 150): Promise<void> {
    const box = await this.id('canvas-3d').boundingBox()
    if (!box) throw new Error('the 3D view is not visible')
    const at = ([fx, fy]: readonly [number, number]) => [box.x + box.width * fx, box.y + box.height * fy] as const
    const [x0, y0] = at(points[0]!)
    await this.page.mouse.move(x0, y0)
    await this.page.mouse.down()
    for (const p of points.slice(1)) {
      const [x, y] = at(p)
      await this.page.mouse.move(x, y, { steps: 3 })
      await this.page.waitForTimeout(stepMs)
    }
    await this.page.mouse.up()
  }

  async setTargetRasMm(r: number, a: number, s: number): Promise<void> {
    await this.id('target-r').fill(String(r))
    await this.id('target-a').fill(String(a))
    await this.id('target-s').fill(String(s))
    await this.id('target-set').click()
  }

  async chooseSimulation(transducerId: string, ppw: number, backend: 'auto' | 'cpu' | 'webgpu'): Promise<void> {
    await this.id('transducer-select').selectOption(transducerId)
    await this.id('resolution-select').selectOption(String(ppw))
    await this.id('backend-select').selectOption(backend)
  }

  async waitForSolverSteps(timeout: number): Promise<string> {
    await this.id('progress-text')
      .filter({ hasText: /step \d+ \/ \d+/ })
      .waitFor({ timeout })
    return this.id('progress-text').innerText()
  }

  async status(): Promise<string> {
    return this.id('simulate-status').innerText()
  }

  async focusPx(axis: SliceAxis): Promise<{ x: number; y: number } | null> {
    const v = await this.id(`view-${axis}`).getAttribute('data-focus-px')
    if (!v) return null
    const [x, y] = v.split(',').map(Number)
    return { x: x!, y: y! }
  }
}
