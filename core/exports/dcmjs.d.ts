/**
 * The part of dcmjs (0.52, no bundled types) that the DICOM export and its tests use: building
 * Part 10 files from "naturalized" datasets (keyword -> value) and parsing them back.
 */
declare module 'dcmjs' {
  /** Keyword-keyed dataset; sequences are arrays of datasets, `_vrMap` overrides a tag's VR (e.g. PixelData: 'OB'). */
  export type NaturalizedDataset = Record<string, unknown>
  /** Tag-keyed dataset as read or written: { '00100010': { vr: 'PN', Value: [...] } }. */
  export type DenaturalizedDataset = Record<string, { vr: string; Value?: unknown[] }>

  export interface DicomDictInstance {
    meta: DenaturalizedDataset
    dict: DenaturalizedDataset
    /** Serialises meta + dataset as a Part 10 file (preamble, DICM, group 2, dataset). */
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer
  }

  export const data: {
    DicomDict: new (meta: DenaturalizedDataset) => DicomDictInstance
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean }): DicomDictInstance
    }
    DicomMetaDictionary: {
      naturalizeDataset(dataset: DenaturalizedDataset): NaturalizedDataset
      denaturalizeDataset(dataset: NaturalizedDataset): DenaturalizedDataset
    }
  }
}
