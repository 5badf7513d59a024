/** DICOM import/export: parse files, group them into series, build volumes, write series. */
export {
  parseDicom,
  DicomDataset,
  type DicomParseOptions,
  type DicomElement,
  type DicomPixelData,
  type NativePixelData,
  type EncapsulatedPixelData,
} from './parser.ts'
export {
  scanDicomFiles,
  assembleSeries,
  type AssembleOptions,
  type DicomFile,
  type SeriesSummary,
  type ScanResult,
} from './series.ts'
export {
  writeDicomSeries,
  formatDS,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  type WriteDicomOptions,
} from './writer.ts'
export { mintUid, isValidUid, contentUid } from './uid.ts'
export {
  Tag,
  tag,
  formatTag,
  TransferSyntax,
  SopClass,
  isEncapsulatedTransferSyntax,
  describeTransferSyntax,
  describeSopClass,
} from './tags.ts'
