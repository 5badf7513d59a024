/** What the host can do (backend device, database, exports, thermal), asked once at start. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Capabilities } from '../../../core/contracts/api.ts'
import { api } from '../api/index.ts'
import { useMessagesStore } from './messages.ts'

export const useCapabilitiesStore = defineStore('capabilities', () => {
  const capabilities = ref<Capabilities | null>(null)
  async function load(): Promise<void> {
    try {
      capabilities.value = await api().capabilities({})
    } catch (e) {
      useMessagesStore().error('Asking the back end what it can do', e)
    }
  }
  return { capabilities, load }
})
