/**
 * Opened images: ids and metadata only (voxels and vtk objects live in the image cache of the
 * views, never in reactive state). One CT; an MRI when loaded.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { ImageInfo, OpenResult } from '../../../core/contracts/api.ts'
import { api } from '../api/index.ts'
import { useMessagesStore } from './messages.ts'

/** A picked or dropped file (the DOM File, kept structural so stores stay testable in Node). */
export interface FileLike {
  readonly name: string
  arrayBuffer(): Promise<ArrayBuffer>
}

export interface SeriesChoice {
  readonly folder: string
  readonly role: 'ct' | 'mri'
  readonly series: Extract<OpenResult, { kind: 'series' }>['series']
}

export const useImagesStore = defineStore('images', () => {
  const ct = ref<ImageInfo | null>(null)
  const mri = ref<ImageInfo | null>(null)
  const loading = ref<string | null>(null)
  const seriesChoice = ref<SeriesChoice | null>(null)
  const hasCt = computed(() => ct.value !== null)

  function accept(result: OpenResult, role: 'ct' | 'mri'): void {
    if (result.kind === 'series') {
      seriesChoice.value = { folder: result.folder, role, series: result.series }
      return
    }
    seriesChoice.value = null
    if (role === 'ct') ct.value = result.image
    else mri.value = result.image
    const messages = useMessagesStore()
    for (const w of result.image.warnings) messages.push('warning', `${result.image.name}: ${w}`)
  }

  async function guarded(label: string, run: () => Promise<OpenResult>, role: 'ct' | 'mri'): Promise<boolean> {
    loading.value = label
    try {
      accept(await run(), role)
      return true
    } catch (e) {
      useMessagesStore().error(`Opening ${label}`, e)
      return false
    } finally {
      loading.value = null
    }
  }

  function openPath(path: string, role: 'ct' | 'mri' = 'ct'): Promise<boolean> {
    const trimmed = path.trim()
    if (!trimmed) {
      useMessagesStore().push('error', 'Opening an image: type the path of a NIfTI/NRRD/MHA file or a DICOM folder')
      return Promise.resolve(false)
    }
    return guarded(trimmed, () => api().openImage({ path: trimmed, role }), role)
  }

  function openFile(file: FileLike, role: 'ct' | 'mri' = 'ct'): Promise<boolean> {
    return guarded(file.name, async () => api().importBytes({ name: file.name, role, bytes: await file.arrayBuffer() }), role)
  }

  function chooseSeries(seriesInstanceUid: string): Promise<boolean> {
    const choice = seriesChoice.value
    if (!choice) return Promise.resolve(false)
    return guarded(choice.folder, () => api().openImage({ path: choice.folder, role: choice.role, seriesInstanceUid }), choice.role)
  }

  return { ct, mri, loading, seriesChoice, hasCt, openPath, openFile, chooseSeries, accept }
})
