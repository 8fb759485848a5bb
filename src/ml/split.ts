// Train/test splitting: seeded, and stratified by class for classification so that both splits keep the
// class proportions (scikit-learn's train_test_split(stratify=y) behaviour, up to rounding).
import {DataError} from '../errors.js'
import {Rng} from './rng.js'

export interface Split {
  /** Row indices, ascending. */
  readonly train: Int32Array
  readonly test: Int32Array
}

/**
 * Holds out ceil(testSize × n) rows (per class when `strata` is given: each class contributes
 * round(testSize × its count), at least one row when it has two or more). testSize 0 puts every row in train.
 */
export function trainTestSplit(nRows: number, testSize: number, seed: number, strata?: Int32Array): Split {
  const rng = new Rng(seed)
  const isTest = new Uint8Array(nRows)
  if (testSize > 0) {
    if (strata) {
      // Each class's rows, ascending, side by side in one array (a counting sort by class).
      const counts = new Map<number, number>()
      for (let i = 0; i < nRows; i++) counts.set(strata[i]!, (counts.get(strata[i]!) ?? 0) + 1)
      const keys = [...counts.keys()].sort((a, b) => a - b)
      const start = new Map<number, number>()
      let offset = 0
      for (const key of keys) {
        start.set(key, offset)
        offset += counts.get(key)!
      }
      const next = new Map(start)
      const byClass = new Int32Array(nRows)
      for (let i = 0; i < nRows; i++) {
        const at = next.get(strata[i]!)!
        byClass[at] = i
        next.set(strata[i]!, at + 1)
      }
      for (const key of keys) {
        const rows = byClass.subarray(start.get(key)!, start.get(key)! + counts.get(key)!)
        rng.shuffle(rows)
        let take = Math.round(testSize * rows.length)
        if (take === 0 && rows.length >= 2) take = 1
        if (take === rows.length) take = rows.length - 1
        for (let i = 0; i < take; i++) isTest[rows[i]!] = 1
      }
    } else {
      const rows = Int32Array.from({length: nRows}, (_, i) => i)
      rng.shuffle(rows)
      const take = Math.min(nRows - 1, Math.ceil(testSize * nRows))
      for (let i = 0; i < take; i++) isTest[rows[i]!] = 1
    }
  }
  const nTest = isTest.reduce((a, b) => a + b, 0)
  if (testSize > 0 && (nTest === 0 || nTest === nRows)) {
    throw new DataError('E_DATA_TOO_FEW_ROWS', `${nRows} labelled rows are too few to hold out a test split`, {
      hint: 'add rows, or train on everything with --test-size 0 (metrics are then on the training rows only)',
    })
  }
  const train = new Int32Array(nRows - nTest)
  const test = new Int32Array(nTest)
  let a = 0
  let b = 0
  for (let i = 0; i < nRows; i++) {
    if (isTest[i]) test[b++] = i
    else train[a++] = i
  }
  return {train, test}
}
