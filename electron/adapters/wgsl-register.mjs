// `node --import ./electron/adapters/wgsl-register.mjs` (or tsx --import): enables .wgsl imports.
import { register } from 'node:module'

register('./wgsl-loader.mjs', import.meta.url)
