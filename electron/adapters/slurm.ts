/**
 * Slurm's client commands (sbatch, squeue, sacct), run as child processes. A missing command is
 * a SimulationInputError naming it (the user is not on a Slurm login node), not a stack trace.
 */
import { execFile } from 'node:child_process'
import { SimulationInputError } from '../../core/solver/errors.ts'

export interface ToolResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `command args`; resolves with its exit code and output (never rejects for a non-zero exit). */
export function runTool(command: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code
      if (code === 'ENOENT') {
        reject(new SimulationInputError('--executor', `${command} is not on PATH: run this on a Slurm login node (or use --executor local)`))
        return
      }
      const exit = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0
      resolve({ code: exit, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}
