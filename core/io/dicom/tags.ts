/**
 * Tag numbers, the small VR dictionary needed for implicit-VR data sets, and the names of
 * transfer syntaxes and SOP classes used in messages.
 *
 * A tag is stored as one unsigned 32-bit number, group in the high 16 bits (PS3.5 §7.1.1),
 * so that tags compare in the same order the standard requires elements to be sorted in.
 */

/** Tag number from group and element, e.g. `tag(0x0020, 0x0032)`. */
export function tag(group: number, element: number): number {
  return ((group << 16) | (element & 0xffff)) >>> 0
}

/** "(gggg,eeee)" as the standard writes tags, for messages. */
export function formatTag(t: number): string {
  const hex = (t >>> 0).toString(16).toUpperCase().padStart(8, '0')
  return `(${hex.slice(0, 4)},${hex.slice(4)})`
}

/** Public tags this module reads or writes (PS3.6 Table 6-1 / 7-1). */
export const Tag = {
  FileMetaInformationGroupLength: 0x00020000,
  FileMetaInformationVersion: 0x00020001,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  ImplementationClassUID: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  StudyTime: 0x00080030,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  Manufacturer: 0x00080070,
  ReferringPhysicianName: 0x00080090,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  ManufacturerModelName: 0x00081090,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  ScanningSequence: 0x00180020,
  SequenceVariant: 0x00180021,
  ScanOptions: 0x00180022,
  MRAcquisitionType: 0x00180023,
  SliceThickness: 0x00180050,
  KVP: 0x00180060,
  EchoTime: 0x00180081,
  SpacingBetweenSlices: 0x00180088,
  EchoTrainLength: 0x00180091,
  GantryDetectorTilt: 0x00181120,
  ConvolutionKernel: 0x00181210,
  PatientPosition: 0x00185100,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  AcquisitionNumber: 0x00200012,
  InstanceNumber: 0x00200013,
  ImagePositionPatient: 0x00200032,
  ImageOrientationPatient: 0x00200037,
  FrameOfReferenceUID: 0x00200052,
  PositionReferenceIndicator: 0x00201040,
  SliceLocation: 0x00201041,
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  PlanarConfiguration: 0x00280006,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  PixelSpacing: 0x00280030,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  WindowCenter: 0x00281050,
  WindowWidth: 0x00281051,
  RescaleIntercept: 0x00281052,
  RescaleSlope: 0x00281053,
  RescaleType: 0x00281054,
  PixelData: 0x7fe00010,
  /** PS3.5 §7.5: item and delimiters carry no VR in any transfer syntax. */
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const

/**
 * VRs of the tags above, needed because implicit-VR data sets (PS3.5 §7.1.3) carry no VR:
 * without it a US value could not be told from a DS string. Tags not listed read as 'UN'.
 */
const IMPLICIT_VR: ReadonlyMap<number, string> = new Map<number, string>([
  [Tag.SpecificCharacterSet, 'CS'],
  [Tag.ImageType, 'CS'],
  [Tag.SOPClassUID, 'UI'],
  [Tag.SOPInstanceUID, 'UI'],
  [Tag.StudyDate, 'DA'],
  [Tag.SeriesDate, 'DA'],
  [Tag.StudyTime, 'TM'],
  [Tag.AccessionNumber, 'SH'],
  [Tag.Modality, 'CS'],
  [Tag.Manufacturer, 'LO'],
  [Tag.ReferringPhysicianName, 'PN'],
  [Tag.StudyDescription, 'LO'],
  [Tag.SeriesDescription, 'LO'],
  [Tag.ManufacturerModelName, 'LO'],
  [Tag.PatientName, 'PN'],
  [Tag.PatientID, 'LO'],
  [Tag.PatientBirthDate, 'DA'],
  [Tag.PatientSex, 'CS'],
  [Tag.ScanningSequence, 'CS'],
  [Tag.SequenceVariant, 'CS'],
  [Tag.ScanOptions, 'CS'],
  [Tag.MRAcquisitionType, 'CS'],
  [Tag.SliceThickness, 'DS'],
  [Tag.KVP, 'DS'],
  [Tag.EchoTime, 'DS'],
  [Tag.SpacingBetweenSlices, 'DS'],
  [Tag.EchoTrainLength, 'IS'],
  [Tag.GantryDetectorTilt, 'DS'],
  [Tag.ConvolutionKernel, 'SH'],
  [Tag.PatientPosition, 'CS'],
  [Tag.StudyInstanceUID, 'UI'],
  [Tag.SeriesInstanceUID, 'UI'],
  [Tag.StudyID, 'SH'],
  [Tag.SeriesNumber, 'IS'],
  [Tag.AcquisitionNumber, 'IS'],
  [Tag.InstanceNumber, 'IS'],
  [Tag.ImagePositionPatient, 'DS'],
  [Tag.ImageOrientationPatient, 'DS'],
  [Tag.FrameOfReferenceUID, 'UI'],
  [Tag.PositionReferenceIndicator, 'LO'],
  [Tag.SliceLocation, 'DS'],
  [Tag.SamplesPerPixel, 'US'],
  [Tag.PhotometricInterpretation, 'CS'],
  [Tag.PlanarConfiguration, 'US'],
  [Tag.NumberOfFrames, 'IS'],
  [Tag.Rows, 'US'],
  [Tag.Columns, 'US'],
  [Tag.PixelSpacing, 'DS'],
  [Tag.BitsAllocated, 'US'],
  [Tag.BitsStored, 'US'],
  [Tag.HighBit, 'US'],
  [Tag.PixelRepresentation, 'US'],
  [Tag.WindowCenter, 'DS'],
  [Tag.WindowWidth, 'DS'],
  [Tag.RescaleIntercept, 'DS'],
  [Tag.RescaleSlope, 'DS'],
  [Tag.RescaleType, 'LO'],
  // PS3.5 §8.2: native pixel data in implicit VR little endian is OW.
  [Tag.PixelData, 'OW'],
  // Sequences that often appear in CT/MR headers, so implicit-VR undefined lengths are expected.
  [0x00081140, 'SQ'], // Referenced Image Sequence
  [0x00082112, 'SQ'], // Source Image Sequence
  [0x00400275, 'SQ'], // Request Attributes Sequence
])

/** VR to assume for `t` when the data set does not state one. */
export function impliedVr(t: number): string {
  // PS3.5 §7.2: every group length (gggg,0000) is UL.
  if ((t & 0xffff) === 0) return 'UL'
  return IMPLICIT_VR.get(t) ?? 'UN'
}

export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const

const TRANSFER_SYNTAX_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.1.2', 'Implicit VR Little Endian'],
  ['1.2.840.10008.1.2.1', 'Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.2', 'Explicit VR Big Endian'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless SV1'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000'],
  ['1.2.840.10008.1.2.4.201', 'HTJ2K Lossless'],
  ['1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL'],
  ['1.2.840.10008.1.2.4.203', 'HTJ2K'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless'],
])

/** "JPEG Lossless (1.2.840.10008.1.2.4.70)", or the bare UID when unknown. */
export function describeTransferSyntax(uid: string): string {
  const name = TRANSFER_SYNTAX_NAMES.get(uid)
  return name === undefined ? uid : `${name} (${uid})`
}

/**
 * True for transfer syntaxes whose pixel data are encapsulated in fragments (PS3.5 §A.4):
 * all JPEG family (1.2.840.10008.1.2.4.*), RLE (…1.2.5) and encapsulated uncompressed
 * (…1.2.1.98). The native ones (implicit/explicit LE, explicit BE, deflated) are false.
 */
export function isEncapsulatedTransferSyntax(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.1.2.4.') || uid === '1.2.840.10008.1.2.5' || uid === TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian
}

export const SopClass = {
  CTImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  MRImageStorage: '1.2.840.10008.5.1.4.1.1.4',
} as const

const SOP_CLASS_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.1.3.10', 'Media Storage Directory (DICOMDIR)'],
  ['1.2.840.10008.5.1.4.1.1.2', 'CT Image'],
  ['1.2.840.10008.5.1.4.1.1.2.1', 'Enhanced CT Image'],
  ['1.2.840.10008.5.1.4.1.1.4', 'MR Image'],
  ['1.2.840.10008.5.1.4.1.1.4.1', 'Enhanced MR Image'],
  ['1.2.840.10008.5.1.4.1.1.7', 'Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.11.1', 'Grayscale Softcopy Presentation State'],
  ['1.2.840.10008.5.1.4.1.1.66', 'Raw Data'],
  ['1.2.840.10008.5.1.4.1.1.66.1', 'Spatial Registration'],
  ['1.2.840.10008.5.1.4.1.1.66.4', 'Segmentation'],
  ['1.2.840.10008.5.1.4.1.1.88.11', 'Basic Text SR'],
  ['1.2.840.10008.5.1.4.1.1.88.22', 'Enhanced SR'],
  ['1.2.840.10008.5.1.4.1.1.88.33', 'Comprehensive SR'],
  ['1.2.840.10008.5.1.4.1.1.88.59', 'Key Object Selection'],
  ['1.2.840.10008.5.1.4.1.1.88.67', 'X-Ray Radiation Dose SR'],
  ['1.2.840.10008.5.1.4.1.1.104.1', 'Encapsulated PDF'],
  ['1.2.840.10008.5.1.4.1.1.481.2', 'RT Dose'],
  ['1.2.840.10008.5.1.4.1.1.481.3', 'RT Structure Set'],
  ['1.2.840.10008.5.1.4.1.1.481.5', 'RT Plan'],
])

/** "RT Structure Set (1.2.840…481.3)", or the bare UID when unknown. */
export function describeSopClass(uid: string): string {
  const name = SOP_CLASS_NAMES.get(uid)
  return name === undefined ? uid : `${name} (${uid})`
}
