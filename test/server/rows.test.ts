// Request bodies → model input columns: every MLflow form, CSV and V2 tensors, and the refusals that name the
// column and row (missing column, wrong type, a missing value an integer input cannot hold, row limit).
import {describe, expect, it} from 'vitest'
import {MlprojError} from '../../src/errors.js'
import type {Signature} from '../../src/onnx/signature.js'
import {
  blockRecord,
  decodeCsv,
  decodeMlflowJson,
  decodeV2,
  inputSpecs,
  parseJsonBody,
  type RowBlock,
} from '../../src/server/rows.js'

const signature: Signature = {
  inputs: [
    {name: 'island', type: 'categorical', onnxName: 'island', elemType: 'string'},
    {name: 'bill length', type: 'numeric', onnxName: 'bill_length', elemType: 'double'},
    {name: 'year', type: 'numeric', onnxName: 'year', elemType: 'double'},
  ],
  task: 'classification',
  target: 'species',
  classes: ['Adelie', 'Gentoo'],
  outputs: {label: 'label', probabilities: 'probabilities'},
}
const inputs = inputSpecs(signature)

/** An imported model: one [N, 2] float input and an int64 one that cannot hold a missing value. */
const imported: Signature = {
  inputs: [
    {name: 'a', type: 'numeric', onnxName: 'float_input', elemType: 'float', index: 0},
    {name: 'b', type: 'numeric', onnxName: 'float_input', elemType: 'float', index: 1},
    {name: 'count', type: 'numeric', onnxName: 'count', elemType: 'int64'},
  ],
  task: 'regression',
  target: 'y',
  outputs: {value: 'variable'},
}

function rows(block: RowBlock): unknown[] {
  return Array.from({length: block.nRows}, (_, i) => blockRecord(block, inputs, i))
}

function refusal(run: () => unknown): {code: string; message: string; status: number} {
  try {
    run()
  } catch (error) {
    if (error instanceof MlprojError) return {code: error.code, message: error.message, status: error.httpStatus}
    throw error
  }
  throw new Error('expected a refusal')
}

const expected = [
  {island: 'Biscoe', 'bill length': 45.1, year: 2008},
  {island: null, 'bill length': null, year: 2009},
]

describe('MLflow JSON forms', () => {
  it('reads dataframe_split, ignoring extra columns and taking the columns in any order', () => {
    const body = {
      dataframe_split: {
        columns: ['year', 'extra', 'island', 'bill length'],
        data: [
          [2008, 'x', 'Biscoe', 45.1],
          [2009, 'y', null, null],
        ],
      },
    }
    expect(rows(decodeMlflowJson(body, inputs, 100))).toEqual(expected)
  })

  it('reads dataframe_records, and a key absent from some records as a missing value', () => {
    const body = {
      dataframe_records: [
        {island: 'Biscoe', 'bill length': 45.1, year: 2008, extra: true},
        {year: 2009, island: ''},
      ],
    }
    expect(rows(decodeMlflowJson(body, inputs, 100))).toEqual(expected)
  })

  it('reads instances and inputs as records, rows in signature order, or columns', () => {
    const records = [{island: 'Biscoe', 'bill length': 45.1, year: 2008}, {year: 2009}]
    const lists = [
      ['Biscoe', 45.1, 2008],
      [null, null, 2009],
    ]
    const columns = {island: ['Biscoe', null], 'bill length': [45.1, null], year: [2008, 2009]}
    for (const form of ['instances', 'inputs']) {
      expect(rows(decodeMlflowJson({[form]: records}, inputs, 100))).toEqual(expected)
      expect(rows(decodeMlflowJson({[form]: lists}, inputs, 100))).toEqual(expected)
      expect(rows(decodeMlflowJson({[form]: columns}, inputs, 100))).toEqual(expected)
    }
  })

  it('refuses columns of different lengths in the columnar form', () => {
    const body = {inputs: {island: ['Biscoe', 'Dream'], 'bill length': [45.1], year: [2008, 2009]}}
    expect(refusal(() => decodeMlflowJson(body, inputs, 9)).message).toBe(
      '"inputs": column "bill length" has 1 values, column "island" has 2',
    )
  })

  it('reads one row given as an object of single values', () => {
    const block = decodeMlflowJson({inputs: {island: 'Dream', 'bill length': 40, year: 2007}}, inputs, 100)
    expect(rows(block)).toEqual([{island: 'Dream', 'bill length': 40, year: 2007}])
  })

  it('accepts numbers written as text and turns numbers into text for categorical columns', () => {
    const block = decodeMlflowJson({dataframe_records: [{island: 7, 'bill length': ' 45.5 ', year: 'NaN'}]}, inputs, 9)
    expect(rows(block)).toEqual([{island: '7', 'bill length': 45.5, year: null}])
  })

  it('refuses a body holding none, or two, of the four forms', () => {
    expect(refusal(() => decodeMlflowJson({rows: []}, inputs, 9))).toMatchObject({
      code: 'E_REQUEST_FORMAT',
      status: 400,
    })
    expect(refusal(() => decodeMlflowJson({inputs: [], instances: []}, inputs, 9)).message).toContain(
      '"instances" and "inputs"',
    )
  })

  it('names every missing column', () => {
    const r = refusal(() => decodeMlflowJson({dataframe_records: [{island: 'Biscoe'}]}, inputs, 9))
    expect(r).toMatchObject({code: 'E_DATA_MISSING_COLUMN', status: 400})
    expect(r.message).toBe('the request lacks columns "bill length", "year" that the model needs')
  })

  it('names the column and row of a value of the wrong type', () => {
    const body = {
      dataframe_split: {
        columns: ['island', 'bill length', 'year'],
        data: [
          ['a', 1, 2],
          ['b', 'long', 3],
        ],
      },
    }
    const r = refusal(() => decodeMlflowJson(body, inputs, 9))
    expect(r).toMatchObject({code: 'E_DATA_TYPE', status: 400})
    expect(r.message).toBe('column "bill length", row 1: expected a number, got "long"')
    expect(refusal(() => decodeMlflowJson({inputs: [[{}, 1, 2]]}, inputs, 9)).message).toBe(
      'column "island", row 0: expected text (or a number), got {}',
    )
  })

  it('refuses a row of the wrong width, naming the expected columns', () => {
    expect(refusal(() => decodeMlflowJson({instances: [['a', 1]]}, inputs, 9)).message).toBe(
      'row 0 has 2 values; expected 3 values (island, bill length, year)',
    )
  })

  it('refuses more rows than the limit with 413, and no rows with 400', () => {
    const records = Array.from({length: 4}, () => ({island: 'a', 'bill length': 1, year: 2}))
    expect(refusal(() => decodeMlflowJson({dataframe_records: records}, inputs, 3))).toMatchObject({
      code: 'E_REQUEST_TOO_MANY_ROWS',
      status: 413,
    })
    expect(refusal(() => decodeMlflowJson({dataframe_records: []}, inputs, 3))).toMatchObject({
      code: 'E_DATA_NO_ROWS',
      status: 400,
    })
  })

  it('accepts missing values for float inputs but refuses them for an integer input', () => {
    const specs = inputSpecs(imported)
    const ok = decodeMlflowJson({dataframe_records: [{a: null, b: 1, count: 3}]}, specs, 9)
    expect(Number.isNaN((ok.columns[0] as Float64Array)[0]!)).toBe(true)
    const r = refusal(() => decodeMlflowJson({dataframe_records: [{a: 1, b: 1, count: null}]}, specs, 9))
    expect(r).toMatchObject({code: 'E_DATA_MISSING_VALUE', message: 'column "count", row 0: the value is missing'})
    expect(refusal(() => decodeMlflowJson({dataframe_records: [{a: 1, b: 1, count: 2.5}]}, specs, 9)).message).toBe(
      'column "count", row 0: expected a whole number, got 2.5',
    )
  })
})

describe('JSON bodies', () => {
  it("reads the bare NaN and Infinity of Python's json.dumps, leaving strings alone", () => {
    expect(parseJsonBody('{"a": [NaN, Infinity, -Infinity, "NaN here"]}')).toEqual({
      a: [null, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 'NaN here'],
    })
  })

  it('refuses invalid JSON as a malformed request', () => {
    expect(refusal(() => parseJsonBody('{"dataframe_records": ['))).toMatchObject({code: 'E_REQUEST_JSON'})
    expect(refusal(() => parseJsonBody('  ')).message).toBe('the request body is empty')
  })
})

describe('CSV bodies', () => {
  it('reads a header row and data rows, with NA and empty fields as missing', () => {
    const csv = 'year,island,bill length,extra\n2008,Biscoe,45.1,x\n2009,NA,,y\n'
    expect(rows(decodeCsv(csv, inputs, 9))).toEqual(expected)
  })

  it('names the line of a value of the wrong type', () => {
    const csv = 'island,bill length,year\nBiscoe,45.1,2008\n\nDream,long,2009\n'
    expect(refusal(() => decodeCsv(csv, inputs, 9)).message).toBe(
      'column "bill length", row 1 (line 4): expected a number, got "long"',
    )
  })

  it('names a missing column and refuses malformed CSV', () => {
    expect(refusal(() => decodeCsv('island,year\nBiscoe,2008\n', inputs, 9)).code).toBe('E_DATA_MISSING_COLUMN')
    expect(refusal(() => decodeCsv('island,bill length,year\n"Biscoe,1,2\n', inputs, 9)).code).toBe('E_REQUEST_CSV')
  })
})

describe('Open Inference Protocol V2 tensors', () => {
  it('reads one tensor per column, of shape [N] or [N, 1], nested or flat', () => {
    const block = decodeV2(
      [
        {name: 'island', shape: [2], datatype: 'BYTES', data: ['Biscoe', null]},
        {name: 'bill length', shape: [2, 1], datatype: 'FP64', data: [[45.1], [null]]},
        {name: 'year', shape: [2], datatype: 'INT64', data: [2008, 2009]},
        {name: 'extra', shape: [1], datatype: 'FP32', data: [0]},
      ],
      inputs,
      9,
    )
    expect(rows(block)).toEqual(expected)
  })

  it('reads a 2-D ONNX input by its name, spreading its columns', () => {
    const specs = inputSpecs(imported)
    const block = decodeV2(
      [
        {name: 'float_input', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4]},
        {name: 'count', shape: [2], datatype: 'INT64', data: [5, 6]},
      ],
      specs,
      9,
    )
    expect(Array.from(block.columns[0] as Float64Array)).toEqual([1, 3])
    expect(Array.from(block.columns[1] as Float64Array)).toEqual([2, 4])
    expect(Array.from(block.columns[2] as Float64Array)).toEqual([5, 6])
  })

  it('refuses shapes that disagree with the data or with each other, and names missing inputs', () => {
    const island = {name: 'island', shape: [2], datatype: 'BYTES', data: ['a', 'b']}
    expect(refusal(() => decodeV2([{...island, shape: [3]}], inputs, 9)).message).toBe(
      'input "island": shape [3] holds 3 values but "data" has 2',
    )
    const year = {name: 'year', shape: [1], datatype: 'FP64', data: [1]}
    const length = {name: 'bill length', shape: [2], datatype: 'FP64', data: [1, 2]}
    expect(refusal(() => decodeV2([island, length, year], inputs, 9)).message).toBe(
      'input "year" has 1 rows but input "island" has 2',
    )
    expect(refusal(() => decodeV2([island], inputs, 9)).message).toBe(
      'the request lacks columns "bill length", "year" that the model needs',
    )
  })

  it('names the column and row of a value of the wrong type', () => {
    const tensors = [
      {name: 'island', shape: [2], datatype: 'BYTES', data: ['a', 'b']},
      {name: 'bill length', shape: [2], datatype: 'BYTES', data: ['1.5', 'x']},
      {name: 'year', shape: [2], datatype: 'FP64', data: [1, 2]},
    ]
    expect(refusal(() => decodeV2(tensors, inputs, 9)).message).toBe(
      'column "bill length", row 1: expected a number, got "x"',
    )
  })
})
