/** WGSL sources are imported as text (Vite `?raw`-style; Node through electron/adapters/wgsl-loader.mjs). */
declare module '*.wgsl' {
  const source: string
  export default source
}
