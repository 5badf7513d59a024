/**
 * The content security policy shared by the Electron window and the browser-fallback server:
 * everything from our own origin only, no eval, no plugins, no frames except the sandboxed
 * report preview (srcdoc), no form posts, no base-URI games. Styles allow 'unsafe-inline'
 * because Vue's style bindings and vtk.js set inline styles; scripts never do.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-src 'self' about:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
