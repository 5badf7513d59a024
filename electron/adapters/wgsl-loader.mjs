// Node module hook: `import source from './kernel.wgsl'` yields the shader text, as Vite's
// `?raw` does in the renderer, so core/ keeps one kernel per .wgsl file without touching fs.
import { readFile } from 'node:fs/promises'

export async function load(url, context, nextLoad) {
  if (url.endsWith('.wgsl')) {
    const text = await readFile(new URL(url), 'utf8')
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true }
  }
  return nextLoad(url, context)
}
