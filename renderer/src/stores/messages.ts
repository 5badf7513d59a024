/** Messages for the user: errors as readable sentences (never a blank screen), and notes. */
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { isApiError } from '../../../core/contracts/api.ts'

export interface Message {
  readonly id: number
  readonly level: 'error' | 'warning' | 'info'
  readonly text: string
}

/** A thrown value as one sentence: which step failed, and the back end's own words. */
export function describeError(step: string, e: unknown): string {
  if (isApiError(e)) return `${step}: ${e.field && !e.message.includes(e.field) ? `${e.field}: ` : ''}${e.message}`
  if (e instanceof Error) return `${step}: ${e.message}`
  return `${step}: ${String(e)}`
}

export const useMessagesStore = defineStore('messages', () => {
  const messages = ref<Message[]>([])
  let next = 1
  function push(level: Message['level'], text: string): void {
    messages.value.push({ id: next++, level, text })
    // Keep the list short: the newest matter.
    if (messages.value.length > 8) messages.value.splice(0, messages.value.length - 8)
  }
  function error(step: string, e: unknown): void {
    push('error', describeError(step, e))
  }
  function dismiss(id: number): void {
    messages.value = messages.value.filter((m) => m.id !== id)
  }
  return { messages, push, error, dismiss }
})
