/**
 * Native pickers: the Electron host hands the service its open dialog (nativePicker), the service
 * offers it as pickPath and says so in its capabilities; the browser mode has none and says to
 * type the path.
 */
import { afterAll, describe, expect, test } from 'vitest'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createPlannerService, type PathPickKind } from '../../../electron/app/service.ts'
import { nativePicker } from '../../../electron/main/main.ts'
import type { BrowserWindowLike } from '../../../electron/main/electron-api.ts'
import { rejection } from '../../helpers/rejection.ts'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tfus-pickers-'))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('native pickers', () => {
  test('the browser mode has none: capabilities say so, pickPath answers "type the path"', async () => {
    const s = createPlannerService({ host: 'browser', workDir: path.join(root, 'b'), probeWebGpu: false })
    try {
      expect((await s.impl.capabilities({})).pickers).toEqual({ available: false, reason: 'the browser mode has no native picker: type the path' })
      expect(await rejection(s.impl.pickPath({ kind: 'export-folder' }))).toMatchObject({ code: 'unavailable' })
    } finally {
      await s.dispose()
    }
  })

  test("Electron's dialog: a file or a folder by kind, null when cancelled or without a window", async () => {
    const asked: { title: string; properties: string[] }[] = []
    let answer = { canceled: false, filePaths: ['/data/ct.nii.gz'] }
    const dialog = { showOpenDialog: async (_w: BrowserWindowLike, o: { title: string; properties: string[] }) => (asked.push(o), answer) }
    const window = {} as BrowserWindowLike
    const pick = nativePicker(dialog, () => window)
    const s = createPlannerService({ host: 'electron', workDir: path.join(root, 'e'), probeWebGpu: false, pickPath: (kind: PathPickKind) => pick(kind) })
    try {
      expect((await s.impl.capabilities({})).pickers).toEqual({ available: true })
      expect(await s.impl.pickPath({ kind: 'image-file' })).toEqual({ path: '/data/ct.nii.gz' })
      expect(asked[0]!.properties).toEqual(['openFile'])
      answer = { canceled: false, filePaths: ['/data/exports'] }
      expect(await s.impl.pickPath({ kind: 'export-folder' })).toEqual({ path: '/data/exports' })
      expect(asked[1]!.properties).toEqual(['openDirectory', 'createDirectory'])
      await s.impl.pickPath({ kind: 'dicom-folder' })
      expect(asked[2]!.properties).toEqual(['openDirectory'])
      answer = { canceled: true, filePaths: [] }
      expect(await s.impl.pickPath({ kind: 'image-file' })).toEqual({ path: null })
      expect(await nativePicker(dialog, () => undefined)('image-file')).toBeNull()
    } finally {
      await s.dispose()
    }
  })
})
