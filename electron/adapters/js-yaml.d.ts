/** The part of js-yaml 4 (no bundled types) the campaign file reader uses: load, schemas, its syntax error. */
declare module 'js-yaml' {
  export interface Schema {
    readonly _brand?: 'js-yaml schema'
  }
  /** YAML's core schema: null, booleans, numbers and strings; no timestamps or custom tags. */
  export const CORE_SCHEMA: Schema
  export interface Mark {
    /** 0-based line and column of the fault. */
    readonly line: number
    readonly column: number
  }
  export class YAMLException extends Error {
    readonly reason: string
    readonly mark?: Mark
  }
  export function load(text: string, options?: { filename?: string; schema?: Schema; json?: boolean }): unknown
  const yaml: { load: typeof load; CORE_SCHEMA: Schema; YAMLException: typeof YAMLException }
  export default yaml
}
