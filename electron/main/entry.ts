// Electron's entry (dist/node/main.mjs in the build; package.json "main" in the packaged app).
// Before anything is written: what this process creates is the user's only (folders 0700,
// files 0600). startElectronApp sets it again (electron/adapters/private-dir.ts restrictUmask).
if (process.platform !== 'win32') process.umask(0o077)
// Imported after the umask: the application's modules may create folders when they load.
const { startElectronApp } = await import('./main.ts')
await startElectronApp()
