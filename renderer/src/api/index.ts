/**
 * The renderer's handle on the back end: one typed client derived from PLANNER_API
 * (core/contracts/api.ts). main.ts installs the real one (IPC or HTTP); unit tests install fakes.
 */
import type { PlannerClient } from '../../../core/contracts/api.ts'

let client: PlannerClient | null = null

export function setApiClient(c: PlannerClient | null): void {
  client = c
}

export function api(): PlannerClient {
  if (!client) throw new Error('the API client is not connected yet')
  return client
}
