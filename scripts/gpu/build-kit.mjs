#!/usr/bin/env node
/**
 * Builds the device-run kit in `.gpu/` (git-ignored): what a GPU machine without Node needs to
 * run the solver, thermal and surrogate checks of scripts/gpu/run-device.sh.
 *
 *   node scripts/gpu/build-kit.mjs [--no-onnx] [--bundle-only] [--out <dir>, default .gpu]
 *
 * - `.gpu/kit.tar.xz` (of `.gpu/kit/`): esbuild bundles (ESM, code-split) of the CLI and the benchmark scripts.
 *   Our own sources' `import.meta.url` is rewritten to the source file's place in the
 *   repository (TFUS_ROOT, default two folders above the bundle), so `resources/` resolves as
 *   it does from source; packages keep the bundle's own, so itk-wasm finds its NIfTI pipelines
 *   in `.gpu/kit/pipelines/` and `webgpu` its `dawn.node` in `.gpu/kit/dist/linux-x64/`.
 * - `.gpu/bin/*.xz`: Node itself (stripped), dawn.node and ONNX Runtime's shared library,
 *   xz-compressed; run-device.sh unpacks them there.
 * - `.gpu/debs/`: Debian's Vulkan loader and GL dispatch libraries, unpacked over / on the device.
 *
 * The device tool carries at most 64 MiB with the working tree: the script prints the total and
 * fails if the kit would not fit.
 */
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const args = process.argv.slice(2)
const outArg = args.indexOf('--out')
const out = outArg >= 0 ? path.resolve(args[outArg + 1]) : path.join(root, '.gpu')
const kit = path.join(out, 'kit')
const withOnnx = !args.includes('--no-onnx')
/** Only the bundles, pipelines and package files in <out>/kit (no binaries, debs or archive): what the tests check. */
const bundleOnly = args.includes('--bundle-only')
const LIMIT = 64 * 2 ** 20
const GL_PACKAGES = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2']
/** What the device call carries (its `carry` argument). */
export const CARRY = ['.gpu/bin', '.gpu/debs', '.gpu/kit.tar.xz']

const ENTRIES = {
  tfus: 'scripts/gpu/tfus-entry.ts',
  checks: 'scripts/gpu/checks.ts',
  'bench-solver': 'scripts/bench-solver.ts',
  validate: 'scripts/validate.ts',
  'bench-thermal': 'scripts/bench-thermal.ts',
  'bench-surrogate': 'scripts/bench-surrogate.ts',
}

/** Our sources: `import.meta.url` / `import.meta.dirname` become their place in the repository. */
const sourcePlaces = {
  name: 'source-places',
  setup(b) {
    b.onResolve({ filter: /^tfus-kit:meta$/ }, () => ({ path: 'meta', namespace: 'tfus-kit' }))
    b.onLoad({ filter: /.*/, namespace: 'tfus-kit' }, () => ({
      loader: 'js',
      contents: `import * as p from 'node:path'; import { fileURLToPath, pathToFileURL } from 'node:url';
const root = process.env.TFUS_ROOT ?? p.resolve(p.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sourceUrl = (rel) => pathToFileURL(p.join(root, rel)).href;
export const sourceDir = (rel) => p.dirname(p.join(root, rel));`,
    }))
    b.onLoad({ filter: /\.(ts|mjs)$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
      let text = readFileSync(args.path, 'utf8')
      if (!/import\.meta\.(url|dirname)/.test(text)) return undefined
      const rel = path.relative(root, args.path).split(path.sep).join('/')
      text = text
        .replaceAll('import.meta.url', `__tfusSourceUrl(${JSON.stringify(rel)})`)
        .replaceAll('import.meta.dirname', `__tfusSourceDir(${JSON.stringify(rel)})`)
      text = `import { sourceUrl as __tfusSourceUrl, sourceDir as __tfusSourceDir } from 'tfus-kit:meta';\n${text}`
      return { contents: text, loader: args.path.endsWith('.ts') ? 'ts' : 'js' }
    })
  },
}

/** Shader files import as their text, as electron/adapters/wgsl-loader.mjs does at run time. */
const wgslText = {
  name: 'wgsl-text',
  setup(b) {
    b.onLoad({ filter: /\.wgsl$/ }, (args) => ({ contents: `export default ${JSON.stringify(readFileSync(args.path, 'utf8'))};`, loader: 'js' }))
  },
}

/** Modules the device checks never reach (databases, registration) become stubs that say so. */
const stubs = {
  name: 'kit-stubs',
  setup(b) {
    b.onResolve({ filter: /^(better-sqlite3|@itk-wasm\/elastix|electron)$/ }, (args) => ({ path: args.path, namespace: 'kit-stub' }))
    b.onLoad({ filter: /.*/, namespace: 'kit-stub' }, (args) => ({
      loader: 'js',
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not part of the GPU kit`)}) };
export default new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : fail), apply: fail, construct: fail });`,
    }))
  },
}

function sizeOf(p) {
  const s = statSync(p)
  if (!s.isDirectory()) return s.size
  return readdirSync(p).reduce((n, f) => n + sizeOf(path.join(p, f)), 0)
}

function xz(from, to) {
  execFileSync('sh', ['-c', `xz -T2 -9e -c "${from}" > "${to}"`])
}

async function main() {
  rmSync(kit, { recursive: true, force: true })
  mkdirSync(kit, { recursive: true })
  if (!bundleOnly) {
    mkdirSync(path.join(out, 'bin'), { recursive: true })
    mkdirSync(path.join(out, 'debs'), { recursive: true })
  }

  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([k, v]) => [k, path.join(root, v)])),
    outdir: kit,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    external: ['onnxruntime-node'],
    plugins: [stubs, wgslText, sourcePlaces],
    // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
    banner: { js: "import { createRequire as __kitRequire } from 'node:module'; const require = __kitRequire(import.meta.url);" },
    logLevel: 'warning',
  })

  // itk-wasm's NIfTI pipelines, where image-io looks for them (next to the bundle).
  const pipelines = path.join(root, 'node_modules/@itk-wasm/image-io/dist/pipelines')
  mkdirSync(path.join(kit, 'pipelines'), { recursive: true })
  for (const f of readdirSync(pipelines).filter((f) => f.startsWith('nifti-'))) copyFileSync(path.join(pipelines, f), path.join(kit, 'pipelines', f))

  // onnxruntime-node stays a package (its binding is loaded by a computed path): its JS and
  // onnxruntime-common's, the binary unpacked next to them on the device.
  if (withOnnx) {
    const ort = path.join(kit, 'node_modules/onnxruntime-node')
    mkdirSync(ort, { recursive: true })
    execFileSync('cp', ['-r', path.join(root, 'node_modules/onnxruntime-node/dist'), path.join(ort, 'dist')])
    copyFileSync(path.join(root, 'node_modules/onnxruntime-node/package.json'), path.join(ort, 'package.json'))
    const common = path.join(kit, 'node_modules/onnxruntime-common')
    mkdirSync(common, { recursive: true })
    execFileSync('cp', ['-r', path.join(root, 'node_modules/onnxruntime-common/dist'), path.join(common, 'dist')])
    copyFileSync(path.join(root, 'node_modules/onnxruntime-common/package.json'), path.join(common, 'package.json'))
    for (const dir of [ort, common]) execFileSync('sh', ['-c', `find "${dir}" -name '*.map' -delete -o -name '*.d.ts' -delete`])
    mkdirSync(path.join(ort, 'bin/napi-v6/linux/x64'), { recursive: true })
    copyFileSync(
      path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node'),
      path.join(ort, 'bin/napi-v6/linux/x64/onnxruntime_binding.node'),
    )
  }

  if (bundleOnly) {
    console.log(`bundles in ${kit}`)
    return
  }

  // Binaries, compressed once and reused while their source is unchanged.
  const node = process.execPath
  const binaries = [
    ['node', node, true],
    ['dawn.node', path.join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node'), false],
    ...(withOnnx ? [['libonnxruntime.so.1', path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1'), false]] : []),
  ]
  for (const f of readdirSync(path.join(out, 'bin'))) if (!binaries.some(([n]) => `${n}.xz` === f || `${n}.stamp` === f)) rmSync(path.join(out, 'bin', f))
  for (const [name, from, strip] of binaries) {
    const target = path.join(out, 'bin', `${name}.xz`)
    const stamp = path.join(out, 'bin', `${name}.stamp`)
    const s = statSync(from)
    const id = `${from} ${s.size} ${s.mtimeMs}`
    if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === id) continue
    let source = from
    if (strip) {
      source = path.join(out, `${name}.stripped`)
      execFileSync('strip', ['-o', source, from])
    }
    xz(source, target)
    if (strip) rmSync(source)
    writeFileSync(stamp, id)
  }

  // Debian's Vulkan loader and GL dispatch libraries for the device (amd64), as the device tool's
  // notes describe: NVIDIA's Vulkan driver is loaded through them.
  const debs = path.join(out, 'debs')
  if (!GL_PACKAGES.every((name) => readdirSync(debs).some((f) => f.startsWith(`${name}_`)))) {
    const lists = '/tmp/tfus-apt-amd64'
    mkdirSync(path.join(lists, 'partial'), { recursive: true })
    const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`]
    execFileSync('apt-get', [...o, 'update', '-qq'], { stdio: 'ignore' })
    execFileSync('apt-get', [...o, 'download', ...GL_PACKAGES], { cwd: debs, stdio: 'ignore' })
  }

  // The bundles and packages travel as one archive (run-device.sh unpacks it into .gpu/kit).
  execFileSync('sh', ['-c', `tar -C "${out}" -cf - kit | xz -T2 -9e > "${path.join(out, 'kit.tar.xz')}"`])

  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(path.join(root, f)))
  const trackedBytes = tracked.reduce((n, f) => n + statSync(path.join(root, f)).size, 0)
  const untracked = execFileSync('git', ['ls-files', '-z', '--others', '--exclude-standard'], { cwd: root }).toString().split('\0').filter(Boolean)
  const untrackedBytes = untracked.reduce((n, f) => n + statSync(path.join(root, f)).size, 0)
  const kitBytes = CARRY.reduce((n, p) => n + sizeOf(path.join(root, p)), 0)
  const total = trackedBytes + untrackedBytes + kitBytes
  const mib = (b) => (b / 2 ** 20).toFixed(1)
  console.log(
    `kit ${mib(kitBytes)} MiB (carry ${CARRY.join(' ')}), working tree ${mib(trackedBytes + untrackedBytes)} MiB: ${mib(total)} MiB of the ${mib(LIMIT)} MiB the device tool carries`,
  )
  if (total > LIMIT) {
    console.error('the kit does not fit: build it with --no-onnx, or carry less')
    process.exitCode = 1
  }
}

await main()
