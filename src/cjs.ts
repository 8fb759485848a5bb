// The CommonJS packages mlproj builds on, loaded with require() on first use. Importing a CommonJS package from an
// ES module makes Node scan its source, and that of every file it re-exports, for export names: 0.2 s of CPU for
// @duckdb/node-api and 0.08 s for onnx-proto, paid again by each worker thread that loads them. require() loads the
// same modules without the scan.
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export type DuckDBApi = typeof import('@duckdb/node-api')
export type OnnxRuntime = typeof import('onnxruntime-node')
export type OnnxProto = typeof import('onnx-proto')

/** @duckdb/node-api. */
export function loadDuckDB(): DuckDBApi {
  return require('@duckdb/node-api') as DuckDBApi
}

/** onnxruntime-node. */
export function loadOnnxRuntime(): OnnxRuntime {
  return require('onnxruntime-node') as OnnxRuntime
}

/** A module of a package by its path (`onnxruntime-node/dist/binding.js`), or a package's package.json. */
export function loadPackageModule(path: string): unknown {
  return require(path)
}

/** onnx-proto's generated protobuf classes. */
export function loadOnnxProto(): OnnxProto {
  return require('onnx-proto') as OnnxProto
}
