/**
 * DICOM for navigation systems that only take DICOM: the pressure amplitude as a derived MR
 * Image Storage series and the -6 dB focal region as a DICOM Segmentation (SEG), plus the pressure
 * as a float Parametric Map (kPa) for research tools, all in the planning image's Frame of
 * Reference, written with dcmjs. Why these SOP classes, and the
 * attribute list: dicom.md beside this file.
 *
 * Geometry is written in the convention the DICOM reader (core/io/dicom/series.ts) reads back:
 * ImagePositionPatient per slice = origin + k * spacing_k * direction column 2 (LPS, mm);
 * ImageOrientationPatient = direction columns 0 and 1; PixelSpacing = [row spacing (j), column
 * spacing (i)]. DS values are printed with `formatDS` (at most 16 characters, full precision
 * when it fits).
 */
import { data as dcmjsData, type NaturalizedDataset } from 'dcmjs'
import { formatDS, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../io/dicom/values.ts'
import { contentUid, isValidUid } from '../io/dicom/uid.ts'
import { deidentificationMethodCodes, longitudinalTemporalInformationModified, type DeidentificationProfile } from './deidentify.ts'
import { ImportError } from '../io/errors.ts'
import { worldToVoxel } from '../volume/geometry.ts'
import { flipAxis, isRightHanded } from '../volume/reorient.ts'
import type { Vec3, Volume } from '../volume/types.ts'
import { growRegion } from '../volume/region.ts'

export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4'
export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4'
export const PARAMETRIC_MAP_STORAGE = '1.2.840.10008.5.1.4.1.1.30'
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'
/** SegmentAlgorithmName (0062,0009) of the focal SEG. */
export const SEGMENT_ALGORITHM_NAME = 'TFUS Planner -6 dB focal region'
/** Private code (scheme 99TFUS) of the segmented property type: voxels >= half the in-brain peak, connected to it. */
export const FOCAL_REGION_CODE = { value: 'FOCAL6DB', scheme: '99TFUS', meaning: '-6 dB acoustic focal region' } as const

export interface DicomPatient {
  /** DICOM PN (family^given); empty when de-identified or unknown. */
  readonly name: string
  readonly id: string
  /** DA (YYYYMMDD) or empty. */
  readonly birthDate: string
  /** CS (M, F, O) of the planning image's header; empty or absent when unknown or de-identified. */
  readonly sex?: string
}

/**
 * The General Study attributes of the planning image's study, copied when the export files into
 * that study: a PACS merges objects by StudyInstanceUID and expects one Study Date/Time/ID across
 * them (dcentvfy flags an empty value beside the CT's as inconsistent).
 */
export interface DicomStudy {
  /** DA, TM, SH, SH, PN as in the planning image's header. */
  readonly date: string
  readonly time: string
  readonly id: string
  readonly accessionNumber: string
  readonly referringPhysicianName: string
}

export interface DicomExportOptions {
  readonly patient: DicomPatient
  /** Study of the planning image when known, so the overlay files under the same study. */
  readonly studyInstanceUid: string
  /** Study Date/Time/ID, accession number and referring physician of that study, when the planning image is DICOM (identified exports only). */
  readonly study?: DicomStudy
  /** The planning image's FrameOfReferenceUID: the one thing the navigation system needs to overlay without registration. */
  readonly frameOfReferenceUid: string
  /** Bytes that identify this export (plan.json + options): seed of every UID, so re-exporting gives the same UIDs. */
  readonly uidSeed: Uint8Array
  /** Software name and version (Manufacturer model, SoftwareVersions). */
  readonly software: string
  /** One line: pose provenance (focus correction or not); goes into the descriptions. */
  readonly poseNote: string
  /** DA and TM of the export, for ContentDate/ContentTime. */
  readonly contentDate: string
  readonly contentTime: string
  readonly seriesNumber?: number
  /**
   * De-identified (PS3.15 Annex E): the caller passes an empty patient and, unless
   * `uidsRetained`, a new Study and Frame of Reference UID; the objects then say so
   * (PatientIdentityRemoved YES, DeidentificationMethod, DeidentificationMethodCodeSequence,
   * LongitudinalTemporalInformationModified; see `dicomDeidentificationProfile`).
   */
  readonly deidentified?: boolean
  /** With `deidentified`: the Study and Frame of Reference UIDs are the planning image's (Retain UIDs Option, 113110). */
  readonly uidsRetained?: boolean
  /**
   * PatientPosition (0018,5100) of the planning image (same Frame of Reference), when its DICOM
   * header says; otherwise written empty (Type 2C, required for MR Image Storage; never invented).
   */
  readonly patientPosition?: string
}

/**
 * The plan's -6 dB focal region (core/planning/metrics.ts `focalVolumeMask`): the 6-connected
 * region of voxels with pressure >= `thresholdPa` (half the in-brain peak) around the in-brain
 * peak. The SEG recomputes it on the exported grid from the exported (stored) pressure values.
 */
export interface FocalRegionSpec {
  /** metrics.json peak_pressure_pa: the intracranial peak, which also sets the display window. */
  readonly peakPressurePa: number
  /** Position of that peak in the export space, LPS metres. */
  readonly peakLpsM: Vec3
  /** Level of the region relative to the peak (0.5 = -6 dB). */
  readonly level?: number
}

/**
 * What a de-identified DICOM export of ours keeps beyond the Basic Profile, hence which CID 7050
 * codes it declares: ContentDate/ContentTime are the export's own date and time, kept as they are
 * (Full Dates, 113106; the SEG needs them, Type 1); the descriptions (SeriesDescription,
 * ImageComments, DerivationDescription, segment texts) are generated text with no identifying
 * information (Clean Descriptors, 113105); no patient characteristics are written; UIDs are
 * retained only when the user asked for it (113110).
 */
export function dicomDeidentificationProfile(uidsRetained: boolean): DeidentificationProfile {
  return { retainUids: uidsRetained, retainFullDates: true, cleanDescriptors: true, retainPatientCharacteristics: false }
}

/** The de-identification attributes of a de-identified object (PS3.15 §E.1.1 item 6, §E.2, §E.3.6); LO values at most 64 characters. */
function deidentificationModule(opts: DicomExportOptions): NaturalizedDataset {
  if (!opts.deidentified) return {}
  const profile = dicomDeidentificationProfile(opts.uidsRetained ?? false)
  const codes = deidentificationMethodCodes(profile)
  return {
    PatientIdentityRemoved: 'YES',
    // LO: each value at most 64 characters (PS3.5 §6.2); the command first, then the code meanings.
    DeidentificationMethod: [`${opts.software} --deidentify${profile.retainUids ? ' --retain-uids' : ''}`, ...codes.map((c) => c.CodeMeaning)].map((v) =>
      clip(v, 64),
    ),
    DeidentificationMethodCodeSequence: codes.map((c) => ({ ...c })),
    LongitudinalTemporalInformationModified: longitudinalTemporalInformationModified(profile),
  }
}

export interface DicomFileOut {
  readonly name: string
  readonly bytes: Uint8Array
}

export interface DicomExport {
  readonly pressureSeries: DicomFileOut[]
  readonly pressureSeriesUid: string
  readonly seg: DicomFileOut
  readonly segSeriesUid: string
  /** The same pressure as one Parametric Map (float32 kPa, Real World Value Mapping in UCUM kPa) for research tools. */
  readonly parametricMap: DicomFileOut
  readonly parametricMapSeriesUid: string
  /** Pa per stored unit (the Real World Value Mapping slope, in Pa; the stored value is pressure in `storedUnit`). */
  readonly storedUnitPa: number
  /** The stored unit as text, e.g. "0.01 kPa". */
  readonly storedUnit: string
  /** Voxels in the SEG's focal region, and its threshold in stored units (a voxel is in it only if stored >= this). */
  readonly focalVoxels: number
  readonly focalThresholdStored: number
  /** The input grid was left-handed and its slice axis was reversed (see writePlanDicom). */
  readonly sliceAxisReversed: boolean
}

function fail(problem: string): ImportError {
  return new ImportError('write-failed', 'DICOM export', problem)
}

interface SliceGeometry {
  readonly iop: string[]
  readonly pixelSpacing: string[]
  readonly sliceThickness: string
  readonly ipp: (k: number) => string[]
}

function sliceGeometry(volume: Volume): SliceGeometry {
  const d = volume.direction
  const col = (c: number): [number, number, number] => [d[c]!, d[3 + c]!, d[6 + c]!]
  const unit = (v: [number, number, number]) => {
    const n = Math.hypot(...v)
    return v.map((x) => x / n)
  }
  const row = unit(col(0))
  const column = unit(col(1))
  const dotRC = row[0]! * column[0]! + row[1]! * column[1]! + row[2]! * column[2]!
  if (Math.abs(dotRC) > 1e-6) throw fail('the volume has a sheared slice plane, which ImageOrientationPatient cannot express')
  const axis = col(2)
  const [sx, sy, sz] = volume.spacingM
  return {
    iop: [...row, ...column].map(formatDS),
    // PS3.3 §10.7.1.3: row spacing (between rows, along j) first.
    pixelSpacing: [formatDS(sy * 1000), formatDS(sx * 1000)],
    sliceThickness: formatDS(sz * 1000),
    ipp: (k) => [0, 1, 2].map((r) => formatDS((volume.originM[r]! + k * sz * axis[r]!) * 1000)),
  }
}

function part10(sopClass: string, sopInstance: string, dataset: NaturalizedDataset): Uint8Array {
  const meta = dcmjsData.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopInstance,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  })
  const dict = new dcmjsData.DicomDict(meta)
  dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(dataset)
  return new Uint8Array(dict.write())
}

const clip = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n))

function commonModules(opts: DicomExportOptions, modality: string, seriesUid: string, seriesNumber: number, description: string): NaturalizedDataset {
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    StudyDate: opts.study?.date ?? '',
    StudyTime: opts.study?.time ?? '',
    AccessionNumber: clip(opts.study?.accessionNumber ?? '', 16),
    Modality: modality,
    Manufacturer: 'TFUS Planner',
    ReferringPhysicianName: opts.study?.referringPhysicianName ?? '',
    SeriesDescription: clip(description, 64),
    ManufacturerModelName: clip(opts.software, 64),
    PatientName: opts.patient.name,
    PatientID: clip(opts.patient.id, 64),
    PatientBirthDate: opts.patient.birthDate,
    PatientSex: opts.patient.sex ?? '',
    ...deidentificationModule(opts),
    StudyInstanceUID: opts.studyInstanceUid,
    SeriesInstanceUID: seriesUid,
    StudyID: clip(opts.study?.id ?? '', 16),
    SeriesNumber: String(seriesNumber),
    FrameOfReferenceUID: opts.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    ContentDate: opts.contentDate,
    ContentTime: opts.contentTime,
  }
}

/** Stored units tried, finest first: the stored value is the pressure in kPa with this many decimals. */
const STORED_UNITS_PA = [1, 10, 100, 1000] as const

function storedUnitText(unitPa: number): string {
  return unitPa === 1000 ? 'kPa' : `${unitPa / 1000} kPa`
}

/**
 * The plan's focal region on the exported grid: 6-connected voxels with `stored >= threshold`,
 * grown from the voxels within one voxel of the in-brain peak's position that reach the threshold
 * (core/planning/metrics.ts `focalVolumeMask`, grown there from the peak voxel).
 */
function focalRegion(stored: Uint16Array, volume: Volume, threshold: number, peakLpsM: Vec3): Uint8Array {
  const [nx, ny] = volume.dims
  const c = worldToVoxel(volume, peakLpsM)
  const lo = c.map((x) => Math.max(0, Math.ceil(x - 1 - 1e-9)))
  const hi = c.map((x, d) => Math.min(volume.dims[d]! - 1, Math.floor(x + 1 + 1e-9)))
  const seeds: number[] = []
  for (let k = lo[2]!; k <= hi[2]!; k++) for (let j = lo[1]!; j <= hi[1]!; j++) for (let i = lo[0]!; i <= hi[0]!; i++) seeds.push(i + nx * (j + ny * k))
  return growRegion(stored, volume.dims, seeds, threshold)
}

const PMAP_TYPE = ['DERIVED', 'PRIMARY', 'VOLUME', 'RESAMPLED']

/** DimensionIndexSequence item: ImagePositionPatient (0020,0032) in PlanePositionSequence (0020,9113). */
function positionDimension(dimensionOrganizationUid: string): NaturalizedDataset {
  return {
    DimensionOrganizationUID: dimensionOrganizationUid,
    DimensionIndexPointer: 0x00200032,
    FunctionalGroupPointer: 0x00209113,
    DimensionDescriptionLabel: 'ImagePositionPatient',
  }
}

/** Enhanced General Equipment module (PS3.3 §C.7.5.2: all Type 1 in SEG and Parametric Map). */
function enhancedEquipment(opts: DicomExportOptions): NaturalizedDataset {
  return { DeviceSerialNumber: '0', SoftwareVersions: clip(opts.software, 64) }
}

/**
 * The pressure as one Parametric Map object (PS3.3 A.75): float32 frames holding the pressure
 * amplitude in kPa exactly as simulated (no quantisation), a Real World Value Mapping (identity,
 * UCUM kPa) in the shared functional groups, the window from the in-brain peak. For research tools
 * that read Parametric Maps; navigation systems that import only CT/MR images take the MR series.
 */
async function parametricMap(
  pressure: Volume,
  geometry: SliceGeometry,
  opts: DicomExportOptions,
  seriesUid: string,
  seriesNumber: number,
  peakPa: number,
  uid: (label: string) => Promise<string>,
): Promise<DicomFileOut> {
  const [nx, ny, nz] = pressure.dims
  const kpa = new Float32Array(nx * ny * nz)
  for (let i = 0; i < kpa.length; i++) {
    const v = pressure.data[i]!
    kpa[i] = Number.isFinite(v) && v > 0 ? v / 1000 : 0
  }
  let maxKpa = 0
  for (const v of kpa) if (v > maxKpa) maxKpa = v
  const sop = await uid('pressure-pmap-sop')
  const dimensionOrganizationUid = await uid('pressure-pmap-dimension-organization')
  const ds: NaturalizedDataset = {
    ...commonModules(opts, 'OT', seriesUid, seriesNumber, 'TFUS pressure amplitude [kPa] (parametric map)'),
    // Four values (Parametric Map Image module): value 3 image flavor VOLUME, value 4 derived pixel
    // contrast RESAMPLED (the simulation grid's pressure resampled onto the planning image's grid).
    ImageType: PMAP_TYPE,
    BodyPartExamined: 'HEAD',
    SOPClassUID: PARAMETRIC_MAP_STORAGE,
    SOPInstanceUID: sop,
    ...enhancedEquipment(opts),
    InstanceNumber: '1',
    ImageComments: clip(`Simulated acoustic pressure amplitude [kPa] of a transcranial ultrasound plan. ${opts.poseNote}`, 10240),
    ContentQualification: 'RESEARCH',
    ContentLabel: 'PRESSURE_KPA',
    ContentDescription: 'Simulated acoustic pressure amplitude [kPa]',
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 32,
    BurnedInAnnotation: 'NO',
    RecognizableVisualFeatures: 'NO',
    LossyImageCompression: '00',
    PresentationLUTShape: 'IDENTITY',
    NumberOfFrames: String(nz),
    AcquisitionContextSequence: [],
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [positionDimension(dimensionOrganizationUid)],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: geometry.iop }],
        PixelMeasuresSequence: [
          { PixelSpacing: geometry.pixelSpacing, SliceThickness: geometry.sliceThickness, SpacingBetweenSlices: geometry.sliceThickness },
        ],
        // SCT 69536005 "Head" (CID 4031); the head is not paired: FrameLaterality U (unpaired).
        FrameAnatomySequence: [
          { AnatomicRegionSequence: [{ CodeValue: '69536005', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Head' }], FrameLaterality: 'U' },
        ],
        ParametricMapFrameTypeSequence: [{ FrameType: PMAP_TYPE }],
        // Identity Pixel Value Transformation macro: the stored float is the value; rescale identity, US (unspecified).
        PixelValueTransformationSequence: [{ RescaleIntercept: '0', RescaleSlope: '1', RescaleType: 'US' }],
        FrameVOILUTSequence: [{ WindowCenter: formatDS(peakPa / 2000), WindowWidth: formatDS(peakPa / 1000), WindowCenterWidthExplanation: 'IN-BRAIN PEAK' }],
        RealWorldValueMappingSequence: [
          {
            DoubleFloatRealWorldValueFirstValueMapped: 0,
            DoubleFloatRealWorldValueLastValueMapped: maxKpa,
            RealWorldValueIntercept: 0,
            RealWorldValueSlope: 1,
            LUTExplanation: 'Acoustic pressure amplitude [kPa]',
            LUTLabel: 'PRESSURE_KPA',
            MeasurementUnitsCodeSequence: [{ CodeValue: 'kPa', CodingSchemeDesignator: 'UCUM', CodeMeaning: 'kilopascal' }],
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: Array.from({ length: nz }, (_, k) => ({
      FrameContentSequence: [{ DimensionIndexValues: [k + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: geometry.ipp(k) }],
    })),
    FloatPixelData: [kpa.buffer],
    _vrMap: { FloatPixelData: 'OF' },
  }
  return { name: 'pmap_kpa.dcm', bytes: part10(PARAMETRIC_MAP_STORAGE, sop, ds) }
}

/**
 * The pressure series (one MR Image Storage file per k-slice, unsigned 16-bit; the stored value is
 * the pressure in kPa with a fixed number of decimals, no Modality LUT, and a Real World Value
 * Mapping in kPa) and the SEG of the -6 dB focal region, computed on the same grid from the same
 * stored values (`focal`), so the two agree voxel for voxel.
 */
export async function writePlanDicom(pressureIn: Volume, focal: FocalRegionSpec, opts: DicomExportOptions): Promise<DicomExport> {
  // A DICOM series is always right-handed (slice normal = row x column), so a left-handed grid
  // (e.g. a CT stored bottom-up, LAS) is written with its slice axis reversed: every voxel keeps
  // its place in the world, and readers get the same voxel centres in right-handed order.
  const flipped = !isRightHanded(pressureIn.direction)
  const pressure = flipped ? flipAxis(pressureIn, 2) : pressureIn
  const [nx, ny, nz] = pressure.dims
  if (nx > 65535 || ny > 65535) throw fail(`slices of ${nx}x${ny} exceed DICOM's 65535 rows/columns`)
  if (!(focal.peakPressurePa > 0 && Number.isFinite(focal.peakPressurePa)))
    throw fail(`the in-brain peak pressure ${focal.peakPressurePa} Pa cannot set the window or the -6 dB level`)
  // PatientIdentityRemoved YES must be true of what is written.
  if (opts.deidentified && (opts.patient.name || opts.patient.id || opts.patient.birthDate || opts.patient.sex || opts.study))
    throw fail("a de-identified export was given a patient name, ID, birth date or sex, or the study's date, ID or accession number")
  for (const [label, uid] of [
    ['StudyInstanceUID', opts.studyInstanceUid],
    ['FrameOfReferenceUID', opts.frameOfReferenceUid],
  ] as const) {
    if (!isValidUid(uid)) throw fail(`${label} "${uid}" is not a valid UID`)
  }
  const uid = (label: string) => contentUid(opts.uidSeed, label)
  const seriesNumber = opts.seriesNumber ?? 901
  const geometry = sliceGeometry(pressure)
  const pressureSeriesUid = await uid('pressure-series')
  const segSeriesUid = await uid('focal-seg-series')

  let max = 0
  for (let i = 0; i < pressure.data.length; i++) {
    const v = pressure.data[i]!
    if (Number.isFinite(v) && v > max) max = v
  }
  // Stored value = pressure in kPa with 3, 2, 1 or 0 decimals: the finest that holds the grid's
  // maximum (which may be a hot spot outside the brain) in unsigned 16 bits. No Modality LUT: MR
  // Image Storage has none, and viewers that ignore RescaleSlope on MR would window raw values.
  const unitPa = STORED_UNITS_PA.find((u) => Math.round(max / u) <= 65535) ?? 1000
  const unit = storedUnitText(unitPa)
  const n = nx * ny * nz
  const stored = new Uint16Array(n)
  for (let i = 0; i < n; i++) {
    const v = pressure.data[i]!
    const q = Number.isFinite(v) && v > 0 ? Math.round(v / unitPa) : 0
    stored[i] = q > 65535 ? 65535 : q
  }
  const level = focal.level ?? 0.5
  // In the region exactly when stored x unit >= level x peak (stored values are integers).
  const thresholdStored = Math.ceil((level * focal.peakPressurePa) / unitPa - 1e-9)
  const focalMask = focalRegion(stored, pressure, thresholdStored, focal.peakLpsM)
  // Window from the intracranial peak (not the grid maximum, which can be a hot spot near the bowl).
  const peakStored = focal.peakPressurePa / unitPa
  const rwvMapping = [
    {
      RealWorldValueFirstValueMapped: 0,
      RealWorldValueLastValueMapped: 65535,
      RealWorldValueIntercept: 0,
      RealWorldValueSlope: unitPa / 1000,
      LUTExplanation: `Acoustic pressure amplitude [kPa] = stored value x ${unitPa / 1000}`,
      LUTLabel: 'PRESSURE_KPA',
      MeasurementUnitsCodeSequence: [{ CodeValue: 'kPa', CodingSchemeDesignator: 'UCUM', CodeMeaning: 'kilopascal' }],
      _vrMap: { RealWorldValueFirstValueMapped: 'US', RealWorldValueLastValueMapped: 'US' },
    },
  ]
  const description = `TFUS pressure amplitude [${unit}]`
  const derivation = `Simulated acoustic pressure amplitude of a transcranial ultrasound plan; stored value = pressure in units of ${unit} (Real World Value Mapping in kPa). ${opts.poseNote}`
  const perSlice = nx * ny
  const pressureFiles: DicomFileOut[] = []
  const sopUids: string[] = []
  for (let k = 0; k < nz; k++) {
    const sop = await uid(`pressure-sop-${k}`)
    sopUids.push(sop)
    const pixels = stored.slice(k * perSlice, (k + 1) * perSlice)
    const ds: NaturalizedDataset = {
      ...commonModules(opts, 'MR', pressureSeriesUid, seriesNumber, description),
      // General Series (PS3.3 §C.7.3.1): PatientPosition is Type 2C, required for MR Image Storage
      // (no Patient Orientation Code Sequence): the planning image's, else empty. Laterality is
      // required only for a paired body part: the head is not, so it is absent.
      BodyPartExamined: 'HEAD',
      PatientPosition: opts.patientPosition ?? '',
      ImageType: ['DERIVED', 'SECONDARY', 'OTHER'],
      SOPClassUID: MR_IMAGE_STORAGE,
      SOPInstanceUID: sop,
      DerivationDescription: clip(derivation, 1024),
      ImageComments: clip(`Not an MR image: simulated pressure amplitude, stored value in ${unit}. ${opts.poseNote}`, 10240),
      // MR Image module type 1/2 attributes (PS3.3 §C.8.3.1); "RM" = research mode. RepetitionTime
      // is Type 2C, required unless ScanningSequence is EP and SequenceVariant is not SK: empty.
      ScanningSequence: 'RM',
      SequenceVariant: 'NONE',
      ScanOptions: '',
      MRAcquisitionType: '3D',
      SliceThickness: geometry.sliceThickness,
      RepetitionTime: '',
      EchoTime: '',
      EchoTrainLength: '',
      SoftwareVersions: clip(opts.software, 64),
      InstanceNumber: String(k + 1),
      ImagePositionPatient: geometry.ipp(k),
      ImageOrientationPatient: geometry.iop,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: ny,
      Columns: nx,
      PixelSpacing: geometry.pixelSpacing,
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 0,
      WindowCenter: formatDS(peakStored / 2),
      WindowWidth: formatDS(peakStored),
      WindowCenterWidthExplanation: 'IN-BRAIN PEAK',
      RealWorldValueMappingSequence: rwvMapping,
      PixelData: [pixels.buffer],
      _vrMap: { PixelData: 'OW' },
    }
    pressureFiles.push({ name: `MR${String(k + 1).padStart(Math.max(4, String(nz).length), '0')}.dcm`, bytes: part10(MR_IMAGE_STORAGE, sop, ds) })
  }

  // SEG: one BINARY frame per slice, bits packed continuously across frames (PS3.5 §8.1.1,
  // PS3.3 §C.8.20.2.1: BitsAllocated 1), least significant bit first.
  const totalBits = perSlice * nz
  const packed = new Uint8Array(Math.ceil(totalBits / 8) + (Math.ceil(totalBits / 8) % 2))
  let inside = 0
  for (let v = 0; v < totalBits; v++) {
    if (focalMask[v]! !== 0) {
      packed[v >> 3]! |= 1 << (v & 7)
      inside++
    }
  }
  const segSop = await uid('focal-seg-sop')
  const dimensionOrganizationUid = await uid('focal-seg-dimension-organization')
  // Category: CID 7150 (SCT 309825002). Type: no standard code for an acoustic focal region, so a
  // private scheme (PS3.3 §8.2: "99" prefix), declared in CodingSchemeIdentificationSequence.
  const segCategory = { CodeValue: '309825002', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Spatial and Relational Concept' }
  const segType = { CodeValue: FOCAL_REGION_CODE.value, CodingSchemeDesignator: FOCAL_REGION_CODE.scheme, CodeMeaning: FOCAL_REGION_CODE.meaning }
  const seg: NaturalizedDataset = {
    ...commonModules(opts, 'SEG', segSeriesUid, seriesNumber + 1, 'TFUS -6 dB focal region'),
    ImageType: ['DERIVED', 'PRIMARY'],
    BodyPartExamined: 'HEAD',
    CodingSchemeIdentificationSequence: [
      { CodingSchemeDesignator: FOCAL_REGION_CODE.scheme, CodingSchemeName: 'TFUS Planner private codes', CodingSchemeResponsibleOrganization: 'TFUS Planner' },
    ],
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: segSop,
    ...enhancedEquipment(opts),
    InstanceNumber: '1',
    ImageComments: clip(`Simulated -6 dB focal region of a transcranial ultrasound plan. ${opts.poseNote}`, 10240),
    ContentLabel: 'FOCAL_6DB',
    ContentDescription: clip(`Simulated -6 dB focal region (pressure >= half the in-brain peak). ${opts.poseNote}`, 64),
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    NumberOfFrames: String(nz),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      // (0062,000B) ReferencedSegmentNumber in (0062,000A) SegmentIdentificationSequence.
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: 0x0062000b,
        FunctionalGroupPointer: 0x0062000a,
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
      positionDimension(dimensionOrganizationUid),
    ],
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: '-6 dB focal region',
        SegmentDescription: clip(`${inside} voxels at or above half the in-brain peak pressure`, 64),
        // Enumerated values (PS3.3 §C.8.20.2): AUTOMATIC, SEMIAUTOMATIC, MANUAL.
        SegmentAlgorithmType: 'AUTOMATIC',
        SegmentAlgorithmName: SEGMENT_ALGORITHM_NAME,
        SegmentedPropertyCategoryCodeSequence: [segCategory],
        SegmentedPropertyTypeCodeSequence: [segType],
        RecommendedDisplayCIELabValue: [53534, 53255, 41948],
      },
    ],
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: pressureSeriesUid,
        ReferencedInstanceSequence: sopUids.map((s) => ({ ReferencedSOPClassUID: MR_IMAGE_STORAGE, ReferencedSOPInstanceUID: s })),
      },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: geometry.iop }],
        PixelMeasuresSequence: [
          { PixelSpacing: geometry.pixelSpacing, SliceThickness: geometry.sliceThickness, SpacingBetweenSlices: geometry.sliceThickness },
        ],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
      },
    ],
    PerFrameFunctionalGroupsSequence: Array.from({ length: nz }, (_, k) => ({
      FrameContentSequence: [{ DimensionIndexValues: [1, k + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: geometry.ipp(k) }],
      DerivationImageSequence: [
        {
          SourceImageSequence: [
            {
              ReferencedSOPClassUID: MR_IMAGE_STORAGE,
              ReferencedSOPInstanceUID: sopUids[k]!,
              PurposeOfReferenceCodeSequence: [
                { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' },
              ],
            },
          ],
          DerivationCodeSequence: [{ CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' }],
        },
      ],
    })),
    PixelData: [packed.buffer],
    _vrMap: { PixelData: 'OB' },
  }
  const parametricMapSeriesUid = await uid('pressure-pmap-series')
  return {
    pressureSeries: pressureFiles,
    pressureSeriesUid,
    seg: { name: 'focal_6db_seg.dcm', bytes: part10(SEGMENTATION_STORAGE, segSop, seg) },
    segSeriesUid,
    parametricMap: await parametricMap(pressure, geometry, opts, parametricMapSeriesUid, seriesNumber + 2, focal.peakPressurePa, uid),
    parametricMapSeriesUid,
    storedUnitPa: unitPa,
    storedUnit: unit,
    focalVoxels: inside,
    focalThresholdStored: thresholdStored,
    sliceAxisReversed: flipped,
  }
}
