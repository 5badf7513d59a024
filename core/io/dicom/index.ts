/** DICOM import: parse files, group them into series, build volumes; the values our writers share. */
export {
  parseDicom,
  DicomDataset,
  type DicomParseOptions,
  type DicomElement,
  type DicomPixelData,
  type NativePixelData,
  type EncapsulatedPixelData,
} from './parser.ts'
export { scanDicomFiles, assembleSeries, type AssembleOptions, type DicomFile, type SeriesSummary, type ScanResult } from './series.ts'
export { formatDS, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './values.ts'
export { mintUid, isValidUid, contentUid } from './uid.ts'
export { Tag, tag, formatTag, TransferSyntax, SopClass, isEncapsulatedTransferSyntax, describeTransferSyntax, describeSopClass } from './tags.ts'
