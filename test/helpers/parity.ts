// Shared pieces of the ONNX parity tests: loading a dataset as a frame, "damaged" copies of rows (missing
// values and categories never seen in training), the largest difference between two outputs, and the check
// that ONNX Runtime predicts what the in-memory pipeline does.
import {expect} from 'vitest'
import {loadFrame} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {type Column, categoricalColumn, type Frame, numericColumn} from '../../src/ml/frame.js'
import {type FittedPipeline, predictPipeline} from '../../src/ml/pipeline.js'
import {type ExportedModel, type ExportOptions, exportPipeline} from '../../src/onnx/export.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {dataset} from './cli.js'

/** Probabilities and values of ONNX Runtime vs the in-memory model (both double precision: ~1e-12 in practice). */
export const TOLERANCE = 1e-5

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(b.length).toBe(a.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

/** A dataset from data/ as feature frame + target column. */
export async function loadDataset(file: string, target: string): Promise<{features: Frame; targetColumn: Column}> {
  const source = await openSource(dataset(file))
  const columns = source.columns.map(c => ({
    name: c.name,
    kind: c.kind === 'numeric' ? ('numeric' as const) : ('categorical' as const),
  }))
  const frame = await loadFrame(source, columns)
  await source.release()
  const targetColumn = frame.columns.find(c => c.name === target)!
  const features: Frame = {nRows: frame.nRows, columns: frame.columns.filter(c => c.name !== target)}
  return {features, targetColumn}
}

/** Rows of `frame` with every third numeric cell blanked and categories replaced by a value never seen. */
export function damaged(frame: Frame): Frame {
  return {
    nRows: frame.nRows,
    columns: frame.columns.map((c, j) => {
      if (c.kind === 'numeric') {
        return numericColumn(
          c.name,
          c.values.map((v, i) => ((i + j) % 3 === 0 ? Number.NaN : v)),
        )
      }
      const levels = [...c.levels, 'never-seen-in-training']
      return categoricalColumn(
        c.name,
        c.codes.map((code, i) => (i % 4 === 0 ? levels.length - 1 : i % 4 === 1 ? -1 : code)),
        levels,
      )
    }),
  }
}

/**
 * Exports the pipeline, loads it into ONNX Runtime and checks that it predicts on each frame what the in-memory
 * pipeline predicts: identical labels, probabilities or values within TOLERANCE. Returns the export.
 */
export async function expectParity(
  pipeline: FittedPipeline,
  frames: readonly Frame[],
  options: ExportOptions = {},
): Promise<ExportedModel> {
  const exported = exportPipeline(pipeline, 'test', options)
  const predictor = await Predictor.load(exported.bytes, exported.signature, 'test model')
  for (const frame of frames) {
    const expected = predictPipeline(pipeline, frame)
    const actual = await predictor.predict(frame)
    if (pipeline.target.task === 'classification') {
      expect(Array.from(actual.classIndex!)).toEqual(Array.from(expected.labels!))
      expect(actual.labels).toEqual(Array.from(expected.labels!, i => pipeline.target.classes![i]))
      expect(maxAbsDiff(expected.probabilities!, actual.probabilities!)).toBeLessThan(TOLERANCE)
    } else expect(maxAbsDiff(expected.values!, actual.values!)).toBeLessThan(TOLERANCE)
  }
  return exported
}
