/**
 * Campaigns (`tfus campaign`, issue 18) in the app: the campaign folders opened here (the back
 * end remembers them), each one's progress, and the tasks of the one on show. A campaign's id is
 * its folder; tasks are run and collected by the CLI or Slurm, the app reads and opens them.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { PlannerClient } from '../../../core/contracts/api.ts'
import { api } from '../api/index.ts'
import { useMessagesStore } from './messages.ts'
import { usePlanStore } from './plan.ts'

type Listed = Awaited<ReturnType<PlannerClient['listCampaigns']>>['campaigns'][number]
type Opened = Awaited<ReturnType<PlannerClient['openCampaign']>>

export const useCampaignsStore = defineStore('campaigns', () => {
  const campaigns = ref<Listed[]>([])
  /** The campaign on show (its folder) and its tasks as last read. */
  const shownDir = ref<string | null>(null)
  const shown = ref<Opened | null>(null)
  const shownTasks = computed(() => (shown.value && shown.value.summary.dir === shownDir.value ? shown.value.tasks : []))

  async function load(): Promise<void> {
    try {
      campaigns.value = (await api().listCampaigns({})).campaigns
    } catch (e) {
      useMessagesStore().error('Listing the campaigns', e)
    }
  }

  /** Opens (and remembers) a campaign folder and shows its tasks; false when it is no campaign folder. */
  async function open(dir: string): Promise<boolean> {
    try {
      shown.value = await api().openCampaign({ dir })
      shownDir.value = shown.value.summary.dir
      await load()
      return true
    } catch (e) {
      useMessagesStore().error(`Opening the campaign ${dir}`, e)
      return false
    }
  }

  async function forget(dir: string): Promise<void> {
    try {
      await api().forgetCampaign({ dir })
      if (shownDir.value === dir) {
        shownDir.value = null
        shown.value = null
      }
      await load()
    } catch (e) {
      useMessagesStore().error(`Forgetting the campaign ${dir}`, e)
    }
  }

  /** Opens a done task of the campaign on show in the views. */
  async function openTask(index: number): Promise<boolean> {
    if (!shownDir.value) return false
    return usePlanStore().openCampaignTask(shownDir.value, index)
  }

  return { campaigns, shownDir, shown, shownTasks, load, open, forget, openTask }
})
