// Evaluation metrics (classification and regression) and the quality gates that are checked against them.
// Definitions follow scikit-learn exactly so numbers agree with what users compute in Python.

import {DataError, UsageError} from '../errors.js'

export interface ClassificationMetrics {
  accuracy: number
  balancedAccuracy: number
  precisionMacro: number
  recallMacro: number
  f1Macro: number
  /** binary: AUC of the positive class (classes[1]); multiclass: macro one-vs-rest AUC. Omitted (undefined) when not computable (a class absent from yTrue). */
  auc?: number
  /** omitted when no probabilities were given */
  logLoss?: number
  perClass: Array<{label: string; precision: number; recall: number; f1: number; support: number}>
  /** confusion[i][j] = number of rows whose true class is i and predicted class is j */
  confusionMatrix: number[][]
  labels: string[]
}

export interface RegressionMetrics {
  rmse: number
  mae: number
  r2: number
  /** omitted when any yTrue is 0 */
  mape?: number
  n: number
}

// sklearn's historical log_loss eps: keeps a confident wrong answer finite instead of Infinity.
const LOG_LOSS_EPS = 1e-15

/** yTrue, yPred: class indices 0..K-1 (Int32Array). probabilities: optional nRows × K row-major Float64Array (or Float32Array), rows sum to 1. classes: the K labels. */
export function classificationMetrics(
  yTrue: Int32Array,
  yPred: Int32Array,
  classes: readonly string[],
  probabilities?: ArrayLike<number>,
): ClassificationMetrics {
  const n = yTrue.length
  const k = classes.length
  if (yPred.length !== n) {
    throw new DataError('E_DATA_METRICS_LENGTH', `yTrue has ${n} rows but yPred has ${yPred.length}`)
  }
  if (n === 0) throw new DataError('E_DATA_METRICS_EMPTY', 'cannot compute metrics on zero rows')
  if (k === 0) throw new DataError('E_DATA_METRICS_CLASSES', 'classification metrics need at least one class')

  // Flat K×K counts: one allocation regardless of row count.
  const confusion = new Float64Array(k * k)
  let correct = 0
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!
    const p = yPred[i]!
    if (t < 0 || t >= k || p < 0 || p >= k) {
      throw new DataError(
        'E_DATA_METRICS_CLASS_INDEX',
        `row ${i}: class index out of range (true ${t}, predicted ${p}; expected 0..${k - 1})`,
      )
    }
    confusion[t * k + p]!++
    if (t === p) correct++
  }

  const support = new Float64Array(k)
  const predicted = new Float64Array(k)
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = confusion[t * k + p]!
      support[t]! += c
      predicted[p]! += c
    }
  }

  const perClass: ClassificationMetrics['perClass'] = []
  // sklearn's macro average runs over labels seen in yTrue or yPred; a class in neither has no defined
  // precision/recall, and counting it as 0 would penalise a model for the test split's composition.
  let macroP = 0
  let macroR = 0
  let macroF = 0
  let nSeen = 0
  let recallSum = 0
  let nPresent = 0
  for (let c = 0; c < k; c++) {
    const tp = confusion[c * k + c]!
    const s = support[c]!
    const pc = predicted[c]!
    // zero_division=0: an undefined ratio counts as 0.
    const precision = pc > 0 ? tp / pc : 0
    const recall = s > 0 ? tp / s : 0
    // 2tp/(support+predicted) equals 2PR/(P+R) but has no 0/0 when P and R are both 0 (newer sklearn's form too).
    const f1 = s + pc > 0 ? (2 * tp) / (s + pc) : 0
    perClass.push({label: classes[c]!, precision, recall, f1, support: s})
    if (s > 0 || pc > 0) {
      macroP += precision
      macroR += recall
      macroF += f1
      nSeen++
    }
    if (s > 0) {
      recallSum += recall
      nPresent++
    }
  }

  const confusionMatrix: number[][] = []
  for (let t = 0; t < k; t++) confusionMatrix.push(Array.from(confusion.subarray(t * k, (t + 1) * k)))

  const result: ClassificationMetrics = {
    accuracy: correct / n,
    balancedAccuracy: recallSum / nPresent,
    precisionMacro: macroP / nSeen,
    recallMacro: macroR / nSeen,
    f1Macro: macroF / nSeen,
    perClass,
    confusionMatrix,
    labels: [...classes],
  }

  if (probabilities !== undefined) {
    if (probabilities.length !== n * k) {
      throw new DataError(
        'E_DATA_METRICS_PROBABILITIES',
        `probabilities have ${probabilities.length} values but ${n} rows × ${k} classes need ${n * k}`,
      )
    }
    let nll = 0
    for (let i = 0; i < n; i++) {
      const raw = probabilities[i * k + yTrue[i]!]!
      if (Number.isNaN(raw)) {
        throw new DataError('E_DATA_METRICS_PROBABILITIES', `row ${i}: probability is NaN`)
      }
      const p = Math.min(Math.max(raw, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS)
      nll -= Math.log(p)
    }
    result.logLoss = nll / n

    // AUC needs every class among the true labels: with one missing, its one-vs-rest curve has no positives.
    if (k >= 2 && nPresent === k) {
      if (k === 2) {
        result.auc = rocAuc(column(probabilities, n, k, 1), isClass(yTrue, 1))
      } else {
        let sum = 0
        for (let c = 0; c < k; c++) sum += rocAuc(column(probabilities, n, k, c), isClass(yTrue, c))
        result.auc = sum / k
      }
    }
  }
  return result
}

function column(values: ArrayLike<number>, n: number, k: number, c: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = values[i * k + c]!
  return out
}

function isClass(y: Int32Array, c: number): Uint8Array {
  const out = new Uint8Array(y.length)
  for (let i = 0; i < y.length; i++) out[i] = y[i] === c ? 1 : 0
  return out
}

export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = yTrue.length
  if (yPred.length !== n) {
    throw new DataError('E_DATA_METRICS_LENGTH', `yTrue has ${n} rows but yPred has ${yPred.length}`)
  }
  if (n === 0) throw new DataError('E_DATA_METRICS_EMPTY', 'cannot compute metrics on zero rows')

  let sumTrue = 0
  let sse = 0
  let sae = 0
  let sape = 0
  let anyZero = false
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!
    const yHat = yPred[i]!
    if (!Number.isFinite(y) || !Number.isFinite(yHat)) {
      throw new DataError(
        'E_DATA_METRICS_NONFINITE',
        `row ${i}: metrics need finite numbers (true ${y}, predicted ${yHat})`,
        {hint: 'Drop or impute rows with a missing target before evaluating.'},
      )
    }
    const e = y - yHat
    sumTrue += y
    sse += e * e
    const ae = Math.abs(e)
    sae += ae
    if (y === 0) anyZero = true
    else sape += ae / Math.abs(y)
  }
  // Second pass around the mean: the one-pass sum-of-squares formula loses digits when values are large.
  const mean = sumTrue / n
  let sst = 0
  for (let i = 0; i < n; i++) {
    const d = yTrue[i]! - mean
    sst += d * d
  }
  // sklearn's force_finite: a constant target scores 1 only when predicted perfectly.
  const r2 = sst === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / sst
  const result: RegressionMetrics = {rmse: Math.sqrt(sse / n), mae: sae / n, r2, n}
  if (!anyZero) result.mape = sape / n
  return result
}

/**
 * Area under the ROC curve, equal to the Mann–Whitney statistic with ties counted as half
 * (sklearn.metrics.roc_auc_score). Throws DataError when only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, positive: Uint8Array | boolean[]): number {
  const n = scores.length
  if (positive.length !== n) {
    throw new DataError('E_DATA_METRICS_LENGTH', `${n} scores but ${positive.length} labels`)
  }
  let nPos = 0
  for (let i = 0; i < n; i++) if (positive[i]) nPos++
  const nNeg = n - nPos
  if (nPos === 0 || nNeg === 0) {
    throw new DataError('E_DATA_AUC_ONE_CLASS', 'AUC is undefined when only one class is present in the labels')
  }
  // Sorting each class's scores separately lets the engine's native numeric sort do the work (no comparator
  // callback, no index array), and a merge then counts, for each positive, the negatives below and tied with it.
  const pos = new Float64Array(nPos)
  const neg = new Float64Array(nNeg)
  let ip = 0
  let ineg = 0
  for (let i = 0; i < n; i++) {
    const s = scores[i]!
    if (Number.isNaN(s)) throw new DataError('E_DATA_AUC_NAN', `score ${i} is NaN`)
    if (positive[i]) pos[ip++] = s
    else neg[ineg++] = s
  }
  pos.sort()
  neg.sort()
  // Counts stay integers below 2^53 (nPos·nNeg ≤ 2.5e11 at a million rows), so the sums are exact.
  let below = 0
  let tied = 0
  let lo = 0
  let hi = 0
  for (let i = 0; i < nPos; i++) {
    const s = pos[i]!
    while (lo < nNeg && neg[lo]! < s) lo++
    if (hi < lo) hi = lo
    while (hi < nNeg && neg[hi]! <= s) hi++
    below += lo
    tied += hi - lo
  }
  return (below + tied / 2) / (nPos * nNeg)
}

/** Known metric names with a one-line description each, for help text and error hints. */
export const METRIC_NAMES: Record<string, string> = {
  accuracy: 'fraction of rows classified correctly (classification, higher is better)',
  balanced_accuracy: 'mean recall over the classes present, robust to imbalance (classification, higher is better)',
  precision: 'macro-averaged precision over classes (classification, higher is better)',
  recall: 'macro-averaged recall over classes (classification, higher is better)',
  f1: 'macro-averaged F1 over classes (classification, higher is better)',
  auc: 'area under the ROC curve; multiclass: macro one-vs-rest (classification, higher is better)',
  log_loss: 'mean negative log-likelihood of the true class (classification, lower is better)',
  rmse: 'root mean squared error (regression, lower is better)',
  mae: 'mean absolute error (regression, lower is better)',
  r2: 'coefficient of determination, 1 is perfect (regression, higher is better)',
  mape: 'mean absolute percentage error as a fraction, absent when a true value is 0 (regression, lower is better)',
}

const DIRECTIONS: Record<string, 'higher' | 'lower'> = {
  accuracy: 'higher',
  balanced_accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  auc: 'higher',
  r2: 'higher',
  rmse: 'lower',
  mae: 'lower',
  mape: 'lower',
  log_loss: 'lower',
}

/** Which direction is better, for sorting/auto-selection. Returns undefined for unknown names. */
export function metricDirection(name: string): 'higher' | 'lower' | undefined {
  // hasOwn, not `in`: names come from users, and "constructor" must not resolve through the prototype.
  return Object.hasOwn(DIRECTIONS, name) ? DIRECTIONS[name] : undefined
}

/** Flat snake_case name → value map used for run logging and quality gates; only defined numbers. */
export function flattenMetrics(m: ClassificationMetrics | RegressionMetrics): Record<string, number> {
  const out: Record<string, number> = {}
  const put = (name: string, value: number | undefined): void => {
    if (value !== undefined && !Number.isNaN(value)) out[name] = value
  }
  if ('rmse' in m) {
    put('rmse', m.rmse)
    put('mae', m.mae)
    put('r2', m.r2)
    put('mape', m.mape)
  } else {
    put('accuracy', m.accuracy)
    put('balanced_accuracy', m.balancedAccuracy)
    put('precision', m.precisionMacro)
    put('recall', m.recallMacro)
    put('f1', m.f1Macro)
    put('auc', m.auc)
    put('log_loss', m.logLoss)
  }
  return out
}

/** Quality gates like "auc<0.85", "rmse>=12", "accuracy < 0.9". The gate FAILS when the comparison is TRUE. */
export interface Gate {
  expression: string
  metric: string
  op: '<' | '<=' | '>' | '>=' | '==' | '!='
  threshold: number
}

export interface GateResult extends Gate {
  value: number | undefined
  failed: boolean
  /** Why the gate failed; absent when it passed. */
  reason?: string
}

const GATE_FORM_HINT =
  'Write a gate as <metric><op><number>, e.g. "auc<0.85" or "rmse >= 12" (operators < <= > >= == !=); ' +
  'the gate fails when the comparison is true.'
// Two-character operators first so "<=" is not read as "<" followed by "=0.8".
const GATE_PATTERN = /^([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)$/
// Stricter than Number(): rejects "", "0x10", "Infinity" and "1_000", which are typos rather than thresholds.
const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

export function parseGate(expression: string): Gate {
  const text = expression.trim()
  const match = GATE_PATTERN.exec(text)
  if (!match) {
    const single = /^[A-Za-z_][A-Za-z0-9_]*\s*=[^=]/.test(text)
    throw new UsageError('E_USAGE_GATE', `cannot read the quality gate "${expression}"`, {
      hint: single ? `Use "==" for equality. ${GATE_FORM_HINT}` : GATE_FORM_HINT,
      details: {expression},
    })
  }
  const metric = match[1]!.toLowerCase()
  const op = match[2] as Gate['op']
  const thresholdText = match[3]!
  if (!Object.hasOwn(METRIC_NAMES, metric)) {
    const known = Object.keys(METRIC_NAMES)
    throw new UsageError('E_USAGE_GATE', `unknown metric "${match[1]}" in the quality gate "${expression}"`, {
      hint: `Known metrics: ${known.join(', ')}. ${GATE_FORM_HINT}`,
      details: {expression, metric: match[1], known},
    })
  }
  if (!NUMBER_PATTERN.test(thresholdText)) {
    throw new UsageError(
      'E_USAGE_GATE',
      `the threshold "${thresholdText}" in the quality gate "${expression}" is not a number`,
      {
        hint: GATE_FORM_HINT,
        details: {expression},
      },
    )
  }
  return {expression: text, metric, op, threshold: Number(thresholdText)}
}

function compare(value: number, op: Gate['op'], threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold
    case '<=':
      return value <= threshold
    case '>':
      return value > threshold
    case '>=':
      return value >= threshold
    case '==':
      return value === threshold
    case '!=':
      return value !== threshold
  }
}

export function checkGates(gates: readonly Gate[], metrics: Record<string, number>): GateResult[] {
  const available = Object.keys(metrics).filter(name => !Number.isNaN(metrics[name]))
  return gates.map(gate => {
    const raw = Object.hasOwn(metrics, gate.metric) ? metrics[gate.metric] : undefined
    // NaN would make every comparison false and so silently pass; treat it like a missing metric.
    const value = typeof raw === 'number' && !Number.isNaN(raw) ? raw : undefined
    if (value === undefined) {
      return {
        ...gate,
        value,
        failed: true,
        reason:
          `metric "${gate.metric}" is not available for this model; ` +
          `available: ${available.length > 0 ? available.join(', ') : '(none)'}`,
      }
    }
    const failed = compare(value, gate.op, gate.threshold)
    return failed
      ? {...gate, value, failed, reason: `${gate.metric} is ${value}, and the gate fails when ${gate.expression}`}
      : {...gate, value, failed}
  })
}
