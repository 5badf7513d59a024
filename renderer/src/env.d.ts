/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// vtk.js ships these filters without type declarations.
declare module '@kitware/vtk.js/Filters/General/ImageMarchingSquares' {
  import type { vtkAlgorithm, vtkObject } from '@kitware/vtk.js/interfaces'
  export interface vtkImageMarchingSquares extends vtkObject, vtkAlgorithm {
    setContourValues(values: number[]): boolean
    setSlicingMode(mode: number): boolean
    setSlice(slice: number): boolean
  }
  const factory: { newInstance(initial?: object): vtkImageMarchingSquares }
  export default factory
}
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes' {
  import type { vtkAlgorithm, vtkObject } from '@kitware/vtk.js/interfaces'
  export interface vtkImageMarchingCubes extends vtkObject, vtkAlgorithm {
    setContourValue(value: number): boolean
    setComputeNormals(on: boolean): boolean
    setMergePoints(on: boolean): boolean
  }
  const factory: { newInstance(initial?: object): vtkImageMarchingCubes }
  export default factory
}
