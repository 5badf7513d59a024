/**
 * A real single-node Slurm cluster for one test: its own munge key and socket, its own
 * slurm.conf (SlurmctldHost=localhost, free ports, state under a temp folder), munged,
 * slurmctld and slurmd started as this user and stopped (by their pid files) at the end.
 * Needs Debian's slurm-wlm and munge (.ci/run installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, promises as fs, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const SLURM_BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo'] as const

export function missingSlurmBinaries(): string[] {
  return SLURM_BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b} || test -x /usr/sbin/${b}`]).status !== 0)
}

export interface SlurmCluster {
  readonly env: NodeJS.ProcessEnv
  readonly dir: string
  stop(): Promise<void>
}

const bin = (name: string) => (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name)

export async function startSlurmCluster(dir: string, cpus = Math.min(2, os.availableParallelism())): Promise<SlurmCluster> {
  for (const d of ['state', 'spool', 'log', 'munge/run']) await fs.mkdir(path.join(dir, d), { recursive: true })
  const key = path.join(dir, 'munge', 'munge.key')
  await fs.writeFile(key, (await import('node:crypto')).randomBytes(1024), { mode: 0o400 })
  await fs.chmod(path.join(dir, 'munge'), 0o700)
  await fs.chmod(path.join(dir, 'munge/run'), 0o755)
  const socket = path.join(dir, 'munge/run/munge.socket')
  const pids = { munged: path.join(dir, 'munge/run/munged.pid'), slurmctld: path.join(dir, 'slurmctld.pid'), slurmd: path.join(dir, 'slurmd.pid') }
  const port = 20000 + Math.floor(Math.random() * 20000)
  const user = os.userInfo().username
  const conf = path.join(dir, 'slurm.conf')
  await fs.writeFile(
    conf,
    [
      'ClusterName=tfustest',
      'SlurmctldHost=localhost',
      `SlurmUser=${user}`,
      `SlurmdUser=${user}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      `SlurmctldPort=${port}`,
      `SlurmdPort=${port + 1}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      // No cgroups in a container: processes are tracked by parent id, tasks not confined.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      'KillWait=5',
      `NodeName=localhost NodeHostname=${os.hostname().split('.')[0]} CPUs=${cpus} RealMemory=2000 State=UNKNOWN`,
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  )
  const env = { ...process.env, SLURM_CONF: conf }
  const run = (cmd: string, args: string[]) => execFileSync(bin(cmd), args, { env, stdio: 'pipe' })
  const stop = async () => {
    for (const name of ['slurmd', 'slurmctld', 'munged'] as const) {
      const pid = Number(existsSync(pids[name]) ? readFileSync(pids[name], 'utf8').trim() : '')
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM')
        } catch {
          // already gone
        }
        for (let i = 0; i < 40; i++) {
          try {
            process.kill(pid, 0)
          } catch {
            break
          }
          await new Promise((r) => setTimeout(r, 250))
        }
      }
    }
  }
  try {
    run('munged', [
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${pids.munged}`,
      `--log-file=${dir}/log/munged.log`,
      `--seed-file=${dir}/munge/seed`,
      '--force',
    ])
    run('slurmctld', ['-c'])
    run('slurmd', ['-N', 'localhost'])
    const end = Date.now() + 60_000
    for (;;) {
      const out = spawnSync(bin('sinfo'), ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim()
      if (out === 'idle') break
      if (Date.now() > end) throw new Error(`the test cluster's node did not come up (sinfo: "${out}"); see ${dir}/log`)
      await new Promise((r) => setTimeout(r, 500))
    }
  } catch (e) {
    await stop()
    throw e
  }
  return { env: { SLURM_CONF: conf }, dir, stop }
}
