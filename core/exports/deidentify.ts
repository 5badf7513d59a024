/**
 * De-identified exports (`--deidentify`): the DICOM method codes we declare, the replacement
 * UIDs, and the check that a written file holds none of the identifiers it must not hold.
 * What is removed, kept and declared: dicom.md beside this file ("De-identification").
 *
 * Codes: PS3.16 CID 7050 "De-identification Method" (coding scheme DCM), for the Basic
 * Application Level Confidentiality Profile and its Options of PS3.15 Annex E.
 */
import { contentUid } from '../io/dicom/uid.ts'

export interface MethodCode {
  readonly CodeValue: string
  readonly CodingSchemeDesignator: 'DCM'
  readonly CodeMeaning: string
}

const dcm = (CodeValue: string, CodeMeaning: string): MethodCode => ({ CodeValue, CodingSchemeDesignator: 'DCM', CodeMeaning })

/** The CID 7050 codes this software can truthfully declare (PS3.16; meanings verbatim). */
export const DEIDENTIFICATION_METHOD_CODES = {
  basicProfile: dcm('113100', 'Basic Application Confidentiality Profile'),
  cleanDescriptors: dcm('113105', 'Clean Descriptors Option'),
  retainFullDates: dcm('113106', 'Retain Longitudinal Temporal Information Full Dates Option'),
  retainModifiedDates: dcm('113107', 'Retain Longitudinal Temporal Information Modified Dates Option'),
  retainPatientCharacteristics: dcm('113108', 'Retain Patient Characteristics Option'),
  retainUids: dcm('113110', 'Retain UIDs Option'),
} as const

/** What a de-identified object keeps beyond the Basic Profile: each `true` adds its Option's code. */
export interface DeidentificationProfile {
  /** Study and Frame of Reference UIDs of the planning image kept (user asked: `--retain-uids`). */
  readonly retainUids: boolean
  /** Dates kept unmodified (ours: ContentDate/ContentTime = the export's own date and time). */
  readonly retainFullDates: boolean
  /** Descriptions kept, holding only generated text free of identifying information. */
  readonly cleanDescriptors: boolean
  /** Patient sex, age, size or weight kept (we write none: always false today). */
  readonly retainPatientCharacteristics: boolean
}

/** De-identification Method Code Sequence (0012,0064) items: the profile first, then the Options applied, in CID 7050 order. */
export function deidentificationMethodCodes(p: DeidentificationProfile): MethodCode[] {
  const c = DEIDENTIFICATION_METHOD_CODES
  return [
    c.basicProfile,
    ...(p.cleanDescriptors ? [c.cleanDescriptors] : []),
    ...(p.retainFullDates ? [c.retainFullDates] : []),
    ...(p.retainPatientCharacteristics ? [c.retainPatientCharacteristics] : []),
    ...(p.retainUids ? [c.retainUids] : []),
  ]
}

/** Longitudinal Temporal Information Modified (0028,0303): PS3.15 E.2 (REMOVED without a Retain Longitudinal Option) and E.3.6 (UNMODIFIED with Full Dates). */
export function longitudinalTemporalInformationModified(p: DeidentificationProfile): 'UNMODIFIED' | 'REMOVED' {
  return p.retainFullDates ? 'UNMODIFIED' : 'REMOVED'
}

/**
 * The replacement for an original UID (study, series, Frame of Reference) in a de-identified
 * export: "2.25." + a SHA-256 name-based UUID of `key` and the original. With `key` = the plan's
 * plan.json bytes every export of one plan maps an original UID to the same new UID (the report's
 * FoR is the de-identified DICOM's), different plans map it to different ones, and the original
 * cannot be recovered without plan.json (which holds it anyway).
 */
export function deidentifiedUid(key: Uint8Array, original: string): Promise<string> {
  return contentUid(key, `deidentified-uid:${original}`)
}

/** A value that must not appear in a de-identified file, and what to call it in an error. */
export interface Identifier {
  readonly what: string
  readonly value: string
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

function pattern(value: string): RegExp {
  // UTF-8 bytes read as latin1 (files are scanned as latin1 text), plain and HTML-escaped.
  const forms = [...new Set([value, escapeHtml(value)].map((v) => String.fromCharCode(...new TextEncoder().encode(v))))]
  const body = forms.map(escapeRe).join('|')
  // A value that ends (starts) in a digit only counts as a whole number: "2.25.1" is not inside "2.25.17".
  const before = /^[0-9]/.test(value) ? '(?<![0-9.])' : ''
  const after = /[0-9]$/.test(value) ? '(?![0-9]|\\.[0-9])' : ''
  return new RegExp(`${before}(?:${body})${after}`)
}

/**
 * The identifiers worth checking for: a short or purely numeric name/ID (say "42") also occurs
 * as a plain number in any report, so only values that cannot occur by chance are kept: UIDs
 * and paths as given, names and IDs of at least 4 characters holding a letter, or of at least
 * 8 digits.
 */
export function checkableIdentifiers(list: readonly Identifier[]): Identifier[] {
  const seen = new Set<string>()
  return list.filter((id) => {
    const v = id.value.trim()
    if (v === '' || seen.has(v)) return false
    const ok = id.what.includes('UID') || id.what.includes('path') ? v.length >= 8 : (v.length >= 4 && /\p{L}/u.test(v)) || /^\d{8,}$/.test(v)
    if (ok) seen.add(v)
    return ok
  })
}

/** The first identifier found in `text` (a file read as latin1), or undefined. */
export function findIdentifier(text: string, identifiers: readonly Identifier[]): Identifier | undefined {
  return identifiers.find((id) => pattern(id.value).test(text))
}
